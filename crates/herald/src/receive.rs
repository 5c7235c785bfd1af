//! `herald receive`: a throwaway webhook receiver for trying Herald locally.
//! Prints every request it gets and answers `200 ok`.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};

async fn print_request(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> &'static str {
    let mut out = format!("{method} {uri}\n");
    for (name, value) in &headers {
        out.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    out.push('\n');
    out.push_str(&String::from_utf8_lossy(&body));
    println!("{out}\n");
    "ok"
}

pub(crate) async fn run(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!(
        "Receiving webhooks on http://{} (any path); Ctrl-C to stop.\n",
        listener.local_addr()?
    );
    let app = Router::new().fallback(print_request);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
