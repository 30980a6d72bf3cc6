using System;
using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Miniss.Samples.Http;

/// <summary>What <see cref="RequestHeadParser.Parse"/> made of the bytes so far.</summary>
internal enum HeadStatus
{
    /// <summary>No blank line yet, and still within the limit: read more.</summary>
    Incomplete,

    /// <summary>A whole, well-formed head: see <see cref="RequestHeadParser.HeadLength"/>.</summary>
    Complete,

    /// <summary>400: the request line is not <c>METHOD SP TARGET SP HTTP/1.x</c>, or a header line is malformed.</summary>
    BadRequest,

    /// <summary>414: the request line alone runs past the head limit.</summary>
    UriTooLong,

    /// <summary>431: the request line ended within the limit, the headers do not.</summary>
    HeaderFieldsTooLarge,

    /// <summary>501: a <c>Transfer-Encoding</c> (bodies are only skipped by <c>Content-Length</c>).</summary>
    NotImplemented,
}

/// <summary>
/// Parses one HTTP/1.1 request head (request line, headers, blank line) from the start of a connection's unconsumed
/// input, keeping its place between reads: every call scans only the bytes that arrived since the last one, and each
/// line is checked once, when its line feed arrives. A head that trickles in, or never ends, costs time in proportion
/// to its bytes, and never more than the limit in memory: past <c>maxHeadSize</c> bytes the parse fails.
/// One parser per connection, on its shard; <see cref="Reset"/> after each complete head.
/// </summary>
internal sealed class RequestHeadParser(int maxHeadSize)
{
    // tchar (RFC 9110, section 5.6.2): the characters of a method and of a header name.
    private static readonly SearchValues<byte> s_token =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // The bytes a request target may hold: visible ASCII.
    private static readonly SearchValues<byte> s_target = SearchValues.Create(Range(0x21, 0x7E));

    // The bytes a header value may hold: visible ASCII, space, tab, and obs-text (0x80-0xFF); no other control byte.
    private static readonly SearchValues<byte> s_fieldValue = SearchValues.Create(FieldValueBytes());

    // Where the line being read starts, and how far it has been scanned for its line feed (offsets from the head's start).
    private long _lineStart;
    private long _scanned;
    private bool _requestLineRead;
    private bool _http10;
    private bool _close;
    private bool _contentLengthRead;

    /// <summary>The length of the complete head, blank line included (after <see cref="HeadStatus.Complete"/>).</summary>
    public long HeadLength { get; private set; }

    /// <summary>Whether the connection stays open after this request: HTTP/1.1 without <c>Connection: close</c>.</summary>
    public bool KeepAlive => !_http10 && !_close;

    /// <summary>The length of the request's body (<c>Content-Length</c>; 0 without one).</summary>
    public long ContentLength { get; private set; }

    /// <summary>Starts over for the next request.</summary>
    public void Reset()
    {
        _lineStart = 0;
        _scanned = 0;
        _requestLineRead = false;
        _http10 = false;
        _close = false;
        _contentLengthRead = false;
        HeadLength = 0;
        ContentLength = 0;
    }

    /// <summary>Parses on from where the last call stopped. <paramref name="input"/> starts at the head's first byte
    /// and holds at least what the last call saw.</summary>
    public HeadStatus Parse(in ReadOnlySequence<byte> input)
    {
        long window = Math.Min(input.Length, maxHeadSize);
        while (_scanned < window)
        {
            SequencePosition? lineFeed = input.Slice(_scanned, window - _scanned).PositionOf((byte)'\n');
            if (lineFeed is not { } found)
            {
                _scanned = window;
                break;
            }

            long end = input.Slice(0, found).Length;
            ReadOnlySequence<byte> line = input.Slice(_lineStart, end - _lineStart);
            _lineStart = _scanned = end + 1;
            HeadStatus status = Line(line);
            if (status != HeadStatus.Incomplete)
            {
                if (status == HeadStatus.Complete)
                {
                    HeadLength = end + 1;
                }

                return status;
            }
        }

        if (input.Length < maxHeadSize)
        {
            return HeadStatus.Incomplete;
        }

        // maxHeadSize bytes and no blank line among them.
        return _requestLineRead ? HeadStatus.HeaderFieldsTooLarge : HeadStatus.UriTooLong;
    }

    /// <summary>Checks one line (without its line feed): the request line, a header, or the blank line that ends the head.</summary>
    private HeadStatus Line(ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return Line(line.FirstSpan);
        }

        // A line across the pipe's segments (rare: most heads arrive in one) is copied to be read in one piece.
        byte[] copy = ArrayPool<byte>.Shared.Rent((int)line.Length);
        try
        {
            line.CopyTo(copy);
            return Line(copy.AsSpan(0, (int)line.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private HeadStatus Line(ReadOnlySpan<byte> line)
    {
        // Every line ends with CR LF; a bare LF is refused rather than guessed at.
        if (line.IsEmpty || line[^1] != (byte)'\r')
        {
            return HeadStatus.BadRequest;
        }

        line = line[..^1];
        if (!_requestLineRead)
        {
            if (line.IsEmpty)
            {
                // RFC 9112 section 2.2: empty lines before the request line are ignored.
                return HeadStatus.Incomplete;
            }

            _requestLineRead = true;
            return RequestLine(line);
        }

        return line.IsEmpty ? HeadStatus.Complete : Header(line);
    }

    /// <summary><c>METHOD SP TARGET SP HTTP/1.x</c>, nothing else.</summary>
    private HeadStatus RequestLine(ReadOnlySpan<byte> line)
    {
        int methodEnd = line.IndexOfAnyExcept(s_token);
        if (methodEnd <= 0 || line[methodEnd] != (byte)' ')
        {
            return HeadStatus.BadRequest;
        }

        ReadOnlySpan<byte> rest = line[(methodEnd + 1)..];
        int targetEnd = rest.IndexOfAnyExcept(s_target);
        if (targetEnd <= 0 || rest[targetEnd] != (byte)' ')
        {
            return HeadStatus.BadRequest;
        }

        ReadOnlySpan<byte> version = rest[(targetEnd + 1)..];
        if (version.Length != 8 || !version.StartsWith("HTTP/1."u8) || !char.IsAsciiDigit((char)version[7]))
        {
            return HeadStatus.BadRequest;
        }

        _http10 = version[7] == (byte)'0';
        return HeadStatus.Incomplete;
    }

    /// <summary><c>NAME: VALUE</c>, the name a token right before the colon, the value free of control bytes.</summary>
    private HeadStatus Header(ReadOnlySpan<byte> line)
    {
        int nameEnd = line.IndexOfAnyExcept(s_token);
        if (nameEnd <= 0 || line[nameEnd] != (byte)':')
        {
            // Also a line folded onto the previous one (it starts with a space): RFC 9112 section 5.2 allows refusing it.
            return HeadStatus.BadRequest;
        }

        ReadOnlySpan<byte> name = line[..nameEnd];
        ReadOnlySpan<byte> value = line[(nameEnd + 1)..].Trim(" \t"u8);
        if (value.ContainsAnyExcept(s_fieldValue))
        {
            return HeadStatus.BadRequest;
        }

        if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
        {
            foreach (Range option in value.Split((byte)','))
            {
                _close |= Ascii.EqualsIgnoreCase(value[option].Trim(" \t"u8), "close"u8);
            }
        }
        else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            if (value.IsEmpty || value.ContainsAnyExceptInRange((byte)'0', (byte)'9')
                || !Utf8Parser.TryParse(value, out long length, out int consumed) || consumed != value.Length
                || (_contentLengthRead && ContentLength != length))
            {
                return HeadStatus.BadRequest;
            }

            ContentLength = length;
            _contentLengthRead = true;
        }
        else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            return HeadStatus.NotImplemented;
        }

        return HeadStatus.Incomplete;
    }

    private static byte[] FieldValueBytes()
    {
        byte[] bytes = new byte[1 + (0x7E - 0x20 + 1) + (0xFF - 0x80 + 1)];
        bytes[0] = (byte)'\t';
        Range(0x20, 0x7E).CopyTo(bytes, 1);
        Range(0x80, 0xFF).CopyTo(bytes, 1 + 0x7E - 0x20 + 1);
        return bytes;
    }

    private static byte[] Range(int first, int last)
    {
        byte[] bytes = new byte[last - first + 1];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(first + i);
        }

        return bytes;
    }
}
