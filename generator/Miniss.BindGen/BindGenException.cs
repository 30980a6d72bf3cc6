using System;

namespace Miniss.BindGen;

/// <summary>An error in BindGen's input or environment, reported to the user as one clear message.</summary>
internal sealed class BindGenException(string message) : Exception(message);
