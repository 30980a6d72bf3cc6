using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Miniss.IO;

namespace Miniss.Cli.CommandLine;

/// <summary>The options every command builds from, each refusing a bad value with a sentence that names the option, the
/// value and what is accepted (reported as a usage failure, exit code 2).</summary>
internal static class OptionParsers
{
    /// <summary>An option whose value is a whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<int> WholeNumber(string name, string helpName, string description, int min, int max, int defaultValue) => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseWholeNumber(result, name, min, max),
    };

    /// <summary>An option whose value is a whole number from <paramref name="min"/> to <paramref name="max"/>, or
    /// <see langword="null"/> when it is not given.</summary>
    public static Option<int?> OptionalWholeNumber(string name, string helpName, string description, int min, int max) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result => ParseWholeNumber(result, name, min, max),
    };

    /// <summary>An option whose value is a number of seconds from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<double> Seconds(string name, string description, double min, double max, double defaultValue) => new(name)
    {
        Description = description,
        HelpName = "SECONDS",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = Token(result);
            if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError(string.Create(CultureInfo.InvariantCulture, $"'{name}' needs a number of seconds from {min} to {max}, not '{text}'"));
            return defaultValue;
        },
    };

    /// <summary>The backends <c>--backend</c> names: one, or <c>all</c> (every backend this machine can run).</summary>
    public static IReadOnlyList<IoBackendKind> Backends(ArgumentResult result)
    {
        string text = Token(result);
        if (text == "all")
        {
            var all = new List<IoBackendKind>();
            if (IoBackendSelection.Select(new RuntimeOptions { Backend = IoBackendKind.Auto }).Kind == IoBackendKind.IoUring)
            {
                all.Add(IoBackendKind.IoUring);
            }

            all.Add(OperatingSystem.IsLinux() ? IoBackendKind.Epoll : IoBackendKind.Kqueue);
            return all;
        }

        try
        {
            return [IoBackendSelection.Parse(text)];
        }
        catch (ArgumentException e)
        {
            result.AddError($"'--backend {text}': {e.Message.Split(" (Parameter")[0]}");
            return [IoBackendKind.Auto];
        }
    }

    /// <summary>An IPv4 or IPv6 literal (<c>[::1]</c> as URLs write it too), or <c>localhost</c> (127.0.0.1).</summary>
    public static IPAddress Address(ArgumentResult result)
    {
        string text = Token(result);
        if (text == "localhost")
        {
            return IPAddress.Loopback;
        }

        string bare = text.Length > 2 && text[0] == '[' && text[^1] == ']' ? text[1..^1] : text;
        if (IPAddress.TryParse(bare, out IPAddress? address)
            && bare.Contains(address.AddressFamily == AddressFamily.InterNetworkV6 ? ':' : '.', StringComparison.Ordinal))
        {
            return address;
        }

        result.AddError($"'--address' needs an IPv4 or IPv6 address such as 127.0.0.1, ::1, 0.0.0.0 or ::, or localhost, not '{text}'");
        return IPAddress.Loopback;
    }

    private static int ParseWholeNumber(ArgumentResult result, string name, int min, int max)
    {
        string text = Token(result);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
        {
            return value;
        }

        result.AddError(string.Create(CultureInfo.InvariantCulture, $"'{name}' needs a whole number from {min} to {max}, not '{text}'"));
        return min;
    }

    private static string Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
}
