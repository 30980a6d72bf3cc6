// Miniss build: dotnet tool restore && dotnet cake --target=<Generate|Build|Test|Bench|BenchCheck|BenchNet|Soak|Pack>
//   Generate  regenerate bindings/Miniss.Bindings/Generated from native-headers (add --verify to fail on drift instead)
//   Build     build the solution (Release)
//   Test      check the committed bindings against the headers, build, run every test project, print "N passed, N failed"
//   Bench     run the BenchmarkDotNet suite and the native liburing baselines; rewrite docs/benchmarks.md
//   BenchCheck rerun a short subset (BenchmarkDotNet's short job on the key rows, the C floors, miniss bench) and fail
//             when a Miniss/.NET or Miniss/C ratio falls more than its tolerance below bench/baseline.json
//             (--update-baseline rewrites the baseline from this run instead); about 2 minutes after the build
//   BenchNet  echo and HTTP servers of Miniss beside .NET Socket and Kestrel (wrk), and Kestrel on Miniss beside Kestrel
//             on Sockets (TechEmpower-style plaintext and JSON); rewrite their sections of docs/benchmarks.md
//             (--warmup=SECONDS --duration=SECONDS, 5 and 10 by default; --suite=net|kestrel|native for one of them;
//             --suite=shared for two Miniss processes on one CPU and p99 beside Kestrel, --rounds=N, --short for 1 round of 1 s + 3 s)
//   Soak      miniss serve http and serve echo under wrk and a churn client (--duration=SECONDS, 600 by default), RSS,
//             descriptors and shards sampled; fails if a server dies, loses a shard, grows or stops answering; rewrites
//             the soak section of docs/reliability.md and docs/soak-rss-fds.svg
//   Pack      pack Miniss.Bindings, Miniss.Runtime, Miniss.Hosting and Miniss.AspNetCore into artifacts/packages
//   Docs      build the documentation site (docfx: guides + API reference) into artifacts/docs/site, warnings as errors

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var verify = HasArgument("verify");
var root = MakeAbsolute(Directory("."));
var results = root.Combine("artifacts/test-results");

void Dotnet(string arguments)
{
    var exit = StartProcess("dotnet", new ProcessSettings { Arguments = arguments, WorkingDirectory = root });
    if (exit != 0)
    {
        throw new Exception($"dotnet {arguments} failed with exit code {exit}");
    }
}

void RunBindGen(bool verifyOnly)
{
    Dotnet($"build generator/Miniss.BindGen/Miniss.BindGen.csproj -c {configuration} --nologo -v q");
    Dotnet($"run --project generator/Miniss.BindGen/Miniss.BindGen.csproj -c {configuration} --no-build -- " +
           $"--headers native-headers --out bindings/Miniss.Bindings/Generated{(verifyOnly ? " --verify" : "")}");
}

Task("Generate")
    .Description("Regenerates the bindings from native-headers; --verify fails if a committed file would change.")
    .Does(() => RunBindGen(verify));

Task("Build")
    .Description("Builds every project of Miniss.sln.")
    .Does(() => Dotnet($"build Miniss.sln -c {configuration} --nologo"));

Task("Test")
    .Description("Verifies the bindings, builds, and runs every test project.")
    .Does(() =>
    {
        RunBindGen(verifyOnly: true);
        Dotnet($"build Miniss.sln -c {configuration} --nologo");
        if (DirectoryExists(results))
        {
            DeleteDirectory(results, new DeleteDirectorySettings { Recursive = true, Force = true });
        }

        var exit = StartProcess("dotnet", new ProcessSettings
        {
            Arguments = $"test Miniss.sln -c {configuration} --no-build --nologo --logger trx --results-directory \"{results}\"",
            WorkingDirectory = root,
        });

        int passed = 0, failed = 0, skipped = 0, files = 0;
        foreach (var trx in GetFiles(results.FullPath + "/*.trx"))
        {
            files++;
            var counters = System.Xml.Linq.XDocument.Load(trx.FullPath).Descendants().First(e => e.Name.LocalName == "Counters");
            int Count(string name) => int.Parse(counters.Attribute(name)?.Value ?? "0");
            passed += Count("passed");
            failed += Count("failed") + Count("error") + Count("timeout") + Count("aborted");
            // An ignored NUnit test is counted in total but not in executed (its notExecuted counter stays 0).
            skipped += Math.Max(Count("notExecuted"), Count("total") - Count("executed")) + Count("inconclusive");
        }

        Information(skipped > 0 ? $"{passed} passed, {failed} failed, {skipped} skipped" : $"{passed} passed, {failed} failed");
        if (exit != 0 || failed > 0)
        {
            throw new Exception($"tests failed (dotnet test exit code {exit})");
        }

        if (files == 0 || passed == 0)
        {
            throw new Exception("no test ran");
        }
    });

Task("Bench")
    .Description("Runs the BenchmarkDotNet suite and the native liburing baselines, and rewrites docs/benchmarks.md.")
    .Does(() =>
    {
        var output = root.Combine("artifacts/bench");
        EnsureDirectoryExists(output);
        EnsureLiburing();

        // The C baselines: the physical limit of this machine for the same workloads.
        foreach (var program in new[] { "nop_round_trip", "read_4k" })
        {
            Run("gcc", $"-O2 -Wall -Wextra -o {output}/{program} bench/native/{program}.c -luring");
        }

        Run("gcc", $"-O2 -Wall -Wextra -pthread -o {output}/spsc_ping_pong bench/native/spsc_ping_pong.c");

        var file = output.CombineWithFilePath("read-4k.data");
        Run("sh", $"-c \"head -c 1073741824 /dev/urandom > {file}\"");
        var native = new List<string>();
        native.AddRange(Capture($"{output}/nop_round_trip", "2000000"));
        native.AddRange(Capture($"{output}/spsc_ping_pong", "2000000"));
        foreach (var depth in new[] { 1, 32 })
        {
            foreach (var mode in new[] { "buffered", "direct" })
            {
                native.AddRange(Capture($"{output}/read_4k", $"{file} {depth} {mode} 100000"));
            }
        }

        DeleteFile(file);
        System.IO.File.WriteAllLines(output.CombineWithFilePath("native.txt").FullPath, native);

        Dotnet($"run -c Release --project bench/Miniss.Benchmarks -- --filter * --exporters json --artifacts {output}/bdn");
        Dotnet($"run -c Release --project bench/Miniss.Benchmarks --no-build -- report {output}");
        Information("docs/benchmarks.md rewritten from this run.");
    });

Task("BenchCheck")
    .Description("Reruns a short subset of the benchmarks and fails when a Miniss/.NET or Miniss/C ratio falls more than its tolerance below bench/baseline.json (--update-baseline rewrites it).")
    .Does(() =>
    {
        var output = root.Combine("artifacts/benchcheck");
        CleanDirectory(output);
        EnsureLiburing();
        foreach (var program in new[] { "nop_round_trip", "read_4k" })
        {
            Run("gcc", $"-O2 -Wall -Wextra -o {output}/{program} bench/native/{program}.c -luring");
        }

        Run("gcc", $"-O2 -Wall -Wextra -pthread -o {output}/spsc_ping_pong bench/native/spsc_ping_pong.c");
        // The benchmarks, the miniss command and the checker in one build (bench/BenchCheck.slnf).
        Dotnet("build bench/BenchCheck.slnf -c Release --nologo -v q");

        // The C floors: NOP round trip, two pinned threads' SPSC ping-pong, 4 KiB buffered reads at queue depth 32 on
        // CPU 0 of a 256 MiB file (in the page cache: it was just written).
        var native = new List<string>();
        native.AddRange(Capture($"{output}/nop_round_trip", "1000000"));
        native.AddRange(Capture($"{output}/spsc_ping_pong", "1000000"));
        var file = output.CombineWithFilePath("read-4k.data");
        Run("sh", $"-c \"head -c 268435456 /dev/urandom > {file}\"");
        native.AddRange(Capture("taskset", $"-c 0 {output}/read_4k {file} 32 buffered 500000"));
        DeleteFile(file);
        System.IO.File.WriteAllLines(output.CombineWithFilePath("native.txt").FullPath, native);

        // BenchmarkDotNet's short job on the rows the C floors and .NET are compared with.
        Dotnet($"run -c Release --project bench/Miniss.Benchmarks --no-build -- --short --filter " +
            "*RingBenchmarks.Nop_round_trip *ShardBenchmarks.Shard_nop_await *ShardBenchmarks.Cross_shard_round_trip *ShardBenchmarks.DotNet_channel_round_trip " +
            $"--exporters json --artifacts {output}/bdn");

        // miniss bench on both cores (Miniss beside .NET), and on CPU 0 alone with one shard (file reads beside C's).
        var miniss = root.CombineWithFilePath("samples/Miniss.Cli/bin/Release/net10.0/miniss");
        Run(miniss.FullPath, $"bench --backend io_uring --duration 2 --file-size 256 --json {output}/miniss-bench.json -q");
        Run("taskset", $"-c 0 {miniss} bench --backend io_uring --shards 1 --duration 2 --file-size 256 --json {output}/miniss-bench-one-core.json -q");

        var check = StartProcess("dotnet", new ProcessSettings
        {
            Arguments = $"run -c Release --project bench/Miniss.BenchCheck --no-build -- {output} bench/baseline.json{(HasArgument("update-baseline") ? " --update-baseline" : "")}",
            WorkingDirectory = root,
        });
        if (check != 0)
        {
            throw new Exception("BenchCheck failed: a ratio fell below its baseline's tolerance, or a row is missing (see the table above)");
        }
    });

Task("BenchNet")
    .Description("Runs the echo and HTTP benchmarks beside .NET Socket and Kestrel, Kestrel on Miniss beside Kestrel on Sockets, one server core beside tokio and C epoll (--suite=all|net|kestrel|native), or the shared-core cases (--suite=shared, --short), and rewrites their sections of docs/benchmarks.md.")
    .Does(() =>
    {
        EnsurePackage("wrk", "/usr/bin/wrk");
        var quick = HasArgument("short");
        var warmup = Argument("warmup", quick ? "1" : "5");
        var duration = Argument("duration", quick ? "3" : "10");
        var suite = Argument("suite", "all");
        var rounds = HasArgument("rounds") ? $" --rounds {Argument<string>("rounds")}" : quick ? " --short" : "";
        if (suite == "all" || suite == "native")
        {
            BuildNativeServers();
        }

        Dotnet("build bench/Miniss.NetBenchmarks/Miniss.NetBenchmarks.csproj -c Release --nologo");
        Dotnet($"run -c Release --project bench/Miniss.NetBenchmarks --no-build -- run --warmup {warmup} --duration {duration} --suite {suite}{rounds}");
    });

Task("Soak")
    .Description("Runs miniss serve http and serve echo under wrk and a churn client (about 10 minutes), and rewrites the soak section of docs/reliability.md.")
    .Does(() =>
    {
        EnsurePackage("wrk", "/usr/bin/wrk");
        var duration = Argument("duration", "600");
        // Builds the miniss command too (the soak runs it as a child process).
        Dotnet("build bench/Miniss.Soak/Miniss.Soak.csproj -c Release --nologo");
        Dotnet($"run -c Release --project bench/Miniss.Soak --no-build -- run --duration {duration}");
    });

void EnsurePackage(string package, string path)
{
    if (FileExists(path))
    {
        return;
    }

    Information($"Installing {package} (apt-get).");
    var sudo = System.Environment.UserName == "root" ? "" : "sudo ";
    Run("sh", $"-c \"{sudo}apt-get update -qq && {sudo}apt-get install -y -qq {package}\"");
}

void EnsureLiburing()
{
    if (FileExists("/usr/include/liburing.h"))
    {
        return;
    }

    Information("Installing liburing-dev for the native baselines (apt-get).");
    var sudo = System.Environment.UserName == "root" ? "" : "sudo ";
    Run("sh", $"-c \"{sudo}apt-get update -qq && {sudo}apt-get install -y -qq liburing-dev\"");
}

// The C epoll server and client and the tokio servers of the native suite, into artifacts/bench/native. tokio is
// built offline from Debian's packaged crates (librust-tokio-dev, librust-socket2-dev), which install a cargo
// directory registry at /usr/share/cargo/registry; a CARGO_HOME of our own points cargo at it.
void BuildNativeServers()
{
    var output = root.Combine("artifacts/bench/native");
    EnsureDirectoryExists(output);
    Run("gcc", $"-O2 -Wall -Wextra -pthread -o {output}/epoll_net bench/native/epoll_net.c");
    if (StartProcess("sh", new ProcessSettings { Arguments = "-c \"command -v cargo\"", RedirectStandardOutput = true }) != 0)
    {
        EnsurePackage("cargo", "/usr/bin/cargo");
    }

    const string registry = "/usr/share/cargo/registry";
    if (!System.IO.Directory.Exists(registry) || System.IO.Directory.GetDirectories(registry, "tokio-1.*").Length == 0)
    {
        Information("Installing Debian's tokio and socket2 crates (apt-get).");
        var sudo = System.Environment.UserName == "root" ? "" : "sudo ";
        Run("sh", $"-c \"{sudo}apt-get update -qq && {sudo}apt-get install -y -qq librust-tokio-dev librust-socket2-dev\"");
    }

    var cargoHome = root.Combine("artifacts/bench/cargo-home");
    EnsureDirectoryExists(cargoHome);
    System.IO.File.WriteAllText(cargoHome.CombineWithFilePath("config.toml").FullPath,
        $"[source.crates-io]\nreplace-with = \"packaged\"\n\n[source.packaged]\ndirectory = \"{registry}\"\n\n[net]\noffline = true\n");
    var target = root.Combine("artifacts/bench/tokio-target");
    var exit = StartProcess("cargo", new ProcessSettings
    {
        Arguments = $"build --release --manifest-path bench/native/tokio-servers/Cargo.toml --target-dir {target}",
        WorkingDirectory = root,
        EnvironmentVariables = new Dictionary<string, string> { ["CARGO_HOME"] = cargoHome.FullPath },
    });
    if (exit != 0)
    {
        throw new Exception($"cargo build of bench/native/tokio-servers failed with exit code {exit}");
    }

    CopyFile(target.CombineWithFilePath("release/miniss-bench-tokio"), output.CombineWithFilePath("miniss-bench-tokio"));
}

void Run(string tool, string arguments)
{
    var exit = StartProcess(tool, new ProcessSettings { Arguments = arguments, WorkingDirectory = root });
    if (exit != 0)
    {
        throw new Exception($"{tool} {arguments} failed with exit code {exit}");
    }
}

IEnumerable<string> Capture(string tool, string arguments)
{
    var exit = StartProcess(tool, new ProcessSettings { Arguments = arguments, WorkingDirectory = root, RedirectStandardOutput = true }, out var lines);
    if (exit != 0)
    {
        throw new Exception($"{tool} {arguments} failed with exit code {exit}");
    }

    var captured = lines.ToList();
    foreach (var line in captured)
    {
        Information(line);
    }

    return captured;
}

Task("Pack")
    .Description("Packs Miniss.Bindings, Miniss.Runtime, Miniss.Hosting, Miniss.AspNetCore and the miniss .NET tool into artifacts/packages, each validated as it is packed.")
    .Does(() =>
    {
        var packages = root.Combine("artifacts/packages");
        CleanDirectory(packages);
        Dotnet($"pack bindings/Miniss.Bindings/Miniss.Bindings.csproj -c {configuration} --nologo -o {packages}");
        Dotnet($"pack runtime/Miniss.Runtime/Miniss.Runtime.csproj -c {configuration} --nologo -o {packages}");
        Dotnet($"pack runtime/Miniss.Hosting/Miniss.Hosting.csproj -c {configuration} --nologo -o {packages}");
        Dotnet($"pack runtime/Miniss.AspNetCore/Miniss.AspNetCore.csproj -c {configuration} --nologo -o {packages}");
        Dotnet($"pack samples/Miniss.Cli/Miniss.Cli.csproj -c {configuration} --nologo -o {packages}");
        foreach (var package in GetFiles(packages.FullPath + "/*.nupkg"))
        {
            Information($"packed {package.GetFilename()}");
        }
    });

Task("Docs")
    .Description("Builds the documentation site with docfx into artifacts/docs/site: the guides of docs/, whose snippets are compiled first, and the API reference of Miniss.Runtime, Miniss.Hosting and Miniss.AspNetCore; any docfx warning fails it.")
    .Does(() =>
    {
        // The snippet project references the three libraries: building it builds them, puts them with their XML docs
        // beside it (docfx reads the API from there) and copies the framework assemblies they reference for docfx.
        Dotnet("build docs/snippets/Miniss.Docs.Snippets.csproj -c Release --nologo");
        foreach (var generated in new[] { "docs/api", "artifacts/docs/site" })
        {
            if (DirectoryExists(generated))
            {
                DeleteDirectory(generated, new DeleteDirectorySettings { Recursive = true, Force = true });
            }
        }

        Dotnet("docfx docs/docfx.json --warningsAsErrors");
        Information($"documentation site: {root.Combine("artifacts/docs/site")}/index.html");
    });

Task("Default").IsDependentOn("Test");

RunTarget(target);
