using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace Miniss.Samples.AspNetCore.Endpoints;

/// <summary><c>GET /json</c>: <c>{"message":"Hello, World!"}</c> serialized per request by System.Text.Json's generated
/// code, TechEmpower's JSON test.</summary>
internal static class JsonEndpoint
{
    public static Task HandleAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        return context.Response.WriteAsJsonAsync(new HelloMessage("Hello, World!"), SampleJsonContext.Default.HelloMessage, contentType: null, context.RequestAborted);
    }
}
