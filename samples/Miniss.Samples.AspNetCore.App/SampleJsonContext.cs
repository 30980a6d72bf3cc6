using System.Text.Json.Serialization;

namespace Miniss.Samples.AspNetCore;

/// <summary>The sample's JSON bodies, serialized by generated code (no reflection) with camelCase names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HelloMessage))]
[JsonSerializable(typeof(UploadResult))]
public sealed partial class SampleJsonContext : JsonSerializerContext;
