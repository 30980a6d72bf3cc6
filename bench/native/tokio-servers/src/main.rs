//! Echo and HTTP/1.1 plaintext servers on tokio, the shape a tokio user would write for the same job as Miniss's
//! benchmark servers:
//!
//!   miniss-bench-tokio echo|http PORT current|multi THREADS
//!
//! `current`: THREADS threads, each a current-thread runtime with its own SO_REUSEPORT listener on PORT (the
//! thread-per-core shape). `multi`: one multi-thread runtime of THREADS workers and one listener. The server prints
//! "listening PORT" when it accepts, and exits when its standard input closes.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::exit;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nServer: tokio\r\n\r\nHello, World!";

#[derive(Clone, Copy, PartialEq)]
enum ServerKind {
    Echo,
    Http,
}

fn usage() -> ! {
    eprintln!("usage: miniss-bench-tokio echo|http PORT current|multi THREADS");
    exit(2);
}

fn listener(port: u16) -> std::net::TcpListener {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap_or_else(|e| fail("socket", e));
    socket.set_reuse_address(true).unwrap_or_else(|e| fail("SO_REUSEADDR", e));
    socket.set_reuse_port(true).unwrap_or_else(|e| fail("SO_REUSEPORT", e));
    socket.set_nonblocking(true).unwrap_or_else(|e| fail("O_NONBLOCK", e));
    socket.bind(&address.into()).unwrap_or_else(|e| fail("bind", e));
    socket.listen(1024).unwrap_or_else(|e| fail("listen", e));
    socket.into()
}

fn fail(what: &str, error: std::io::Error) -> ! {
    eprintln!("miniss-bench-tokio: {what} failed: {error}");
    exit(1);
}

async fn accept_loop(listener: std::net::TcpListener, protocol: ServerKind) {
    let listener = TcpListener::from_std(listener).unwrap_or_else(|e| fail("register listener", e));
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    match protocol {
                        ServerKind::Echo => echo(stream).await,
                        ServerKind::Http => http(stream).await,
                    }
                });
            }
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

async fn echo(mut stream: TcpStream) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Answers every complete request head in what has arrived with one write per read (pipelined requests batched),
/// as the Miniss HTTP sample does. Bodies are not expected (wrk sends GET).
async fn http(mut stream: TcpStream) {
    let mut input = vec![0u8; 16 * 1024];
    let mut filled = 0usize;
    let mut output = Vec::with_capacity(16 * RESPONSE.len());
    loop {
        if filled == input.len() {
            return; // a head larger than the buffer: not a benchmark client
        }
        match stream.read(&mut input[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => filled += n,
        }
        let mut start = 0usize;
        while let Some(end) = find_head_end(&input[start..filled]) {
            output.extend_from_slice(RESPONSE);
            start += end;
        }
        if !output.is_empty() {
            if stream.write_all(&output).await.is_err() {
                return;
            }
            output.clear();
        }
        input.copy_within(start..filled, 0);
        filled -= start;
    }
}

fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        usage();
    }
    let protocol = match args[1].as_str() {
        "echo" => ServerKind::Echo,
        "http" => ServerKind::Http,
        _ => usage(),
    };
    let port: u16 = args[2].parse().unwrap_or_else(|_| usage());
    let threads: usize = args[4].parse().ok().filter(|&t| t > 0).unwrap_or_else(|| usage());
    match args[3].as_str() {
        "current" => {
            for _ in 0..threads {
                let socket = listener(port);
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_io()
                        .build()
                        .unwrap_or_else(|e| fail("runtime", e));
                    runtime.block_on(accept_loop(socket, protocol));
                });
            }
        }
        "multi" => {
            let socket = listener(port);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .enable_io()
                    .build()
                    .unwrap_or_else(|e| fail("runtime", e));
                runtime.block_on(accept_loop(socket, protocol));
            });
        }
        _ => usage(),
    }
    println!("listening {port}");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    exit(0);
}
