//! `serve` on a real loopback socket: it answers, and it stops when the shutdown future resolves.

use std::time::Duration;

use taoscope_api::{ApiState, pool, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn serve_answers_and_shuts_down_gracefully() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = ApiState::new(pool("postgres://postgres@127.0.0.1:1/x", 1).expect("pool"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));

    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");

    stop.send(()).expect("server still running");
    let result = tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("serve did not stop after shutdown")
        .expect("serve task panicked");
    assert!(result.is_ok(), "{result:?}");
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
}
