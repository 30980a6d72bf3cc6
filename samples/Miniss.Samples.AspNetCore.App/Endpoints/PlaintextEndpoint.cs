using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace Miniss.Samples.AspNetCore.Endpoints;

/// <summary><c>GET /plaintext</c>: "Hello, World!" as text/plain with its Content-Length, TechEmpower's plaintext test.</summary>
internal static class PlaintextEndpoint
{
    private static readonly byte[] s_body = "Hello, World!"u8.ToArray();

    public static Task HandleAsync(HttpContext context)
    {
        HttpResponse response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain";
        response.ContentLength = s_body.Length;
        return response.Body.WriteAsync(s_body, context.RequestAborted).AsTask();
    }
}
