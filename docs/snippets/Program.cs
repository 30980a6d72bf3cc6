// <first-program>
using System;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using Miniss;
using Miniss.Net;

// One shard per CPU this process may run on, each a pinned thread with its own io_uring ring (or epoll).
await using MinissRuntime runtime = MinissRuntime.Start();
Console.WriteLine($"{runtime.ShardCount} shards on {runtime.Backend}");

// Work sent to a shard runs on that shard's thread; the result comes back to the caller.
int[] ids = await runtime.InvokeOnAll(() => Shard.Current!.Id);
Console.WriteLine($"hello from shards {string.Join(", ", ids)}");

// An echo server: every shard listens on the same port and serves the connections it accepts.
await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, 0), EchoAsync);

// A client on the last shard: connections are owned by the shard that opened them.
string reply = await runtime.SubmitTo(runtime.ShardCount - 1, async () =>
{
    await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
    byte[] message = Encoding.UTF8.GetBytes("hello, Miniss");
    await client.SendAsync(message);
    byte[] answer = new byte[message.Length];
    int received = 0;
    while (received < answer.Length)
    {
        int count = await client.ReceiveAsync(answer.AsMemory(received));
        if (count == 0)
        {
            break;
        }

        received += count;
    }

    return Encoding.UTF8.GetString(answer, 0, received);
});
Console.WriteLine($"echoed: {reply}");

// Runs on the shard that accepted the connection; the server disposes the connection when it returns.
static async ValueTask EchoAsync(ShardConnection connection)
{
    byte[] buffer = new byte[4096];
    int received;
    while ((received = await connection.ReceiveAsync(buffer)) > 0)
    {
        await connection.SendAsync(buffer.AsMemory(0, received));
    }
}
// </first-program>
