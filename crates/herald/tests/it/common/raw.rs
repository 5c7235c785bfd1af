//! A destination on a raw TCP socket, for answers no HTTP server library
//! would send: absurd headers, garbage, resets, silence, endless bodies.
//!
//! Each connection's request is read (head and `Content-Length` body) and
//! counted, then the scripted [`Act`] plays on the socket.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the destination does once it has read a request.
pub(crate) type Act =
    Arc<dyn Fn(TcpStream) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Wraps a closure as an [`Act`].
pub(crate) fn act<F, Fut>(f: F) -> Act
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |stream| Box::pin(f(stream)))
}

/// Writes `bytes` and keeps the connection open until the client goes.
pub(crate) fn answer(bytes: impl Into<Vec<u8>>) -> Act {
    let bytes: Arc<Vec<u8>> = Arc::new(bytes.into());
    act(move |mut stream| {
        let bytes = bytes.clone();
        async move {
            let _ = stream.write_all(&bytes).await;
            drain(stream).await;
        }
    })
}

/// Reads until the peer closes, so the client decides when it is over.
pub(crate) async fn drain(mut stream: TcpStream) {
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
}

pub(crate) struct RawDestination {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl RawDestination {
    pub(crate) async fn start(act: Act) -> RawDestination {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind raw destination");
        let addr = listener.local_addr().expect("raw destination address");
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let act = act.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    if read_request(&mut stream).await {
                        counted.fetch_add(1, Ordering::SeqCst);
                        act(stream).await;
                    }
                });
            }
        });
        RawDestination {
            addr,
            requests,
            task,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Requests read so far.
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for RawDestination {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request: the head, then as many body bytes as
/// `Content-Length` says. False when the peer went away first.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => have += n,
        }
    }
    true
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
