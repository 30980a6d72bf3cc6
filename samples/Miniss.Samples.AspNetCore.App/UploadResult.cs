namespace Miniss.Samples.AspNetCore;

/// <summary>The body of a <c>POST /upload</c> response: <c>{"bytes":N,"sha256":"hex"}</c>.</summary>
/// <param name="Bytes">How many bytes the request body held.</param>
/// <param name="Sha256">Their SHA-256, 64 lowercase hexadecimal digits.</param>
public sealed record UploadResult(long Bytes, string Sha256);
