using System;
using System.Threading.Tasks;
using Spectre.Console;

namespace Miniss.Cli;

/// <summary>How <c>miniss bench</c> shows its progress, always on stderr so that stdout holds only the results.</summary>
internal enum ProgressMode
{
    /// <summary>Nothing (<c>--quiet</c>).</summary>
    None,

    /// <summary>A line when each step starts and one when it ends: stderr is a file or a pipe.</summary>
    Lines,

    /// <summary>A live status line per step (Spectre.Console), then its outcome: stderr is a terminal.</summary>
    Live,
}

/// <summary>The progress of one <c>miniss bench</c> run on stderr, as <see cref="ProgressMode"/> says.</summary>
internal sealed class BenchProgress(ProgressMode mode)
{
    private readonly IAnsiConsole? _console = mode == ProgressMode.Live
        ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) })
        : null;

    /// <summary>Writes <paramref name="text"/> as a line of progress.</summary>
    public void Line(string text)
    {
        switch (mode)
        {
            case ProgressMode.Live:
                _console!.MarkupLine(Markup.Escape(text));
                break;
            case ProgressMode.Lines:
                Console.Error.WriteLine(text);
                break;
        }
    }

    /// <summary>Runs <paramref name="step"/>, which reports how it goes through the action it is given: shown live on a
    /// terminal, dropped otherwise (a log of a run should not hold four lines a second).</summary>
    public Task<T> RunAsync<T>(string title, Func<Action<string>, Task<T>> step)
    {
        switch (mode)
        {
            case ProgressMode.Live:
                return _console!.Status().StartAsync(Markup.Escape(title), status => step(text => status.Status(Markup.Escape(text))));
            case ProgressMode.Lines:
                Console.Error.WriteLine($"{title}: running");
                return step(static _ => { });
            default:
                return step(static _ => { });
        }
    }
}
