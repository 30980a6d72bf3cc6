using System;
using System.Collections.Generic;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Miniss.Hosting.Internal;

/// <summary>A configuration section seen without one of its direct children: what the options binder must not read
/// because Miniss reads it itself (<c>Backend</c>, whose spellings <c>io_uring</c> and <c>epoll</c> are not enum names).</summary>
internal sealed class ConfigurationWithout(IConfiguration inner, string hiddenKey) : IConfiguration
{
    public string? this[string key]
    {
        get => IsHidden(key) ? null : inner[key];
        set => inner[key] = value;
    }

    public IEnumerable<IConfigurationSection> GetChildren()
    {
        foreach (IConfigurationSection child in inner.GetChildren())
        {
            if (!IsHidden(child.Key))
            {
                yield return child;
            }
        }
    }

    public IChangeToken GetReloadToken() => inner.GetReloadToken();

    public IConfigurationSection GetSection(string key) => IsHidden(key) ? new AbsentSection(key, inner.GetReloadToken()) : inner.GetSection(key);

    private bool IsHidden(string key) => string.Equals(key, hiddenKey, StringComparison.OrdinalIgnoreCase);

    /// <summary>A section with no value and no children: what the binder sees in place of the hidden key.</summary>
    private sealed class AbsentSection(string key, IChangeToken reloadToken) : IConfigurationSection
    {
        public string Key => key;

        public string Path => key;

        public string? Value
        {
            get => null;
            set => throw new NotSupportedException($"'{key}' is read by Miniss itself, not through this view.");
        }

        public string? this[string child]
        {
            get => null;
            set => throw new NotSupportedException($"'{key}' is read by Miniss itself, not through this view.");
        }

        public IEnumerable<IConfigurationSection> GetChildren() => [];

        public IChangeToken GetReloadToken() => reloadToken;

        public IConfigurationSection GetSection(string child) => new AbsentSection(key + ConfigurationPath.KeyDelimiter + child, reloadToken);
    }
}
