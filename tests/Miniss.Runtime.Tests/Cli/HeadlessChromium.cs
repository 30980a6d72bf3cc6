using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// Renders an HTML file in headless Chromium (Debian's <c>chromium</c> package) and returns the DOM it built and every
/// console message the page raised. Chromium's log on stderr tags each console message with <c>:CONSOLE</c> whatever
/// its level, so the check is strict: a page that runs no script has no business printing any (a blocked fetch, a
/// Content-Security-Policy violation and a parse error all land there).
/// </summary>
internal static class HeadlessChromium
{
    /// <summary>The ceiling of one render; a correct one takes seconds.</summary>
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(90);

    private static readonly string[] s_names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

    /// <summary>What Chromium made of a page.</summary>
    /// <param name="Dom">The document as Chromium serializes it after loading (<c>--dump-dom</c>).</param>
    /// <param name="ConsoleMessages">Every console message of the page, as Chromium logged it.</param>
    public sealed record Rendering(string Dom, IReadOnlyList<string> ConsoleMessages);

    /// <summary>Loads <paramref name="path"/> in headless Chromium, with a profile of its own removed afterwards.</summary>
    /// <remarks>Fails the test, with what to install, when no Chromium is on PATH: the report check is part of the suite
    /// and must not pass by being skipped.</remarks>
    public static Rendering Render(string path)
    {
        string binary = Find() ?? throw new AssertionException(
            "headless Chromium is needed to check the HTML report and none was found on PATH (chromium, chromium-browser, " +
            "google-chrome): install Debian's chromium package (apt-get install -y chromium; ./test.sh installs it when missing)");
        string profile = Directory.CreateTempSubdirectory("miniss-chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(binary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[]
            {
                // --no-sandbox: the tests run as root, where Chromium refuses its sandbox.
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync", "--disable-component-update",
                $"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", new Uri(Path.GetFullPath(path)).AbsoluteUri,
            })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = new Process { StartInfo = start };
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
            process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(s_patience))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                Assert.Fail($"Chromium did not render {path} within {s_patience.TotalSeconds} s\n{Locked(stderr)}");
            }

            process.WaitForExit();   // drains the redirected output
            string log = Locked(stderr);
            Assert.That(process.ExitCode, Is.Zero, $"Chromium failed to render {path}\n{log}");
            var messages = new List<string>();
            foreach (string line in log.Split('\n'))
            {
                if (line.Contains(":CONSOLE", StringComparison.Ordinal))
                {
                    messages.Add(line.Trim());
                }
            }

            return new Rendering(Locked(stdout), messages);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    /// <summary>The first Chromium on PATH, or <see langword="null"/>.</summary>
    private static string? Find()
    {
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string name in s_names)
            {
                string candidate = Path.Combine(folder, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            text.Append(line).Append('\n');
        }
    }

    private static string Locked(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }
}
