//! Bad input is a one-line error that says what to do, and a non-zero exit; never a panic.

use taoscope_schema::testing::TestDb;

use crate::support::{assert_one_line_error, run, taken_port, taoscope};

#[tokio::test]
async fn a_node_url_that_is_not_a_node() {
    let db = TestDb::empty().await;
    // Nothing listens there.
    let closed = taken_port().local_addr().unwrap();
    let out = run({
        let mut c = taoscope();
        c.args(["index", "--node", &format!("ws://{closed}"), "--database-url", db.url()]);
        c
    });
    assert_one_line_error(&out, "Is it a Substrate node's RPC endpoint");

    // Something answers HTTP there, but it is not a node.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi").await;
        }
    });
    let url = format!("http://{addr}");
    let out = tokio::task::spawn_blocking(move || {
        let mut c = taoscope();
        c.args(["index", "--node", &url, "--database-url", "postgres://postgres@127.0.0.1:5432/postgres"]);
        run(c)
    })
    .await
    .unwrap();
    assert_one_line_error(&out, "cannot connect to node");
}

#[tokio::test]
async fn a_postgres_that_is_down() {
    let closed = taken_port().local_addr().unwrap().port();
    let url = format!("postgres://postgres@127.0.0.1:{closed}/taoscope");
    for args in
        [vec!["migrate"], vec!["serve", "--listen", "127.0.0.1:0"], vec!["up", "--listen", "127.0.0.1:0"]]
    {
        let out = run({
            let mut c = taoscope();
            c.args(&args).args(["--database-url", &url]);
            c
        });
        assert_one_line_error(&out, &format!("cannot connect to PostgreSQL at 127.0.0.1:{closed}"));
    }
}

#[tokio::test]
async fn a_port_in_use() {
    let db = TestDb::migrated().await;
    let taken = taken_port();
    let addr = taken.local_addr().unwrap().to_string();
    for args in
        [vec!["serve", "--listen", &addr], vec!["up", "--listen", &addr], vec!["devnet", "--listen", &addr]]
    {
        let out = run({
            let mut c = taoscope();
            c.args(&args).args(if args[0] == "devnet" { vec![] } else { vec!["--database-url", db.url()] });
            c
        });
        assert_one_line_error(&out, &format!("cannot listen on {addr}"));
    }
}

#[tokio::test]
async fn out_of_range_settings_and_unknown_flags() {
    let out = run({
        let mut c = taoscope();
        c.args(["devnet", "--listen", "127.0.0.1:0", "--subnets", "0"]);
        c
    });
    assert_one_line_error(&out, "--subnets must be 1..=128");
    let out = run({
        let mut c = taoscope();
        c.args(["index", "--no-such-flag"]);
        c
    });
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    // Fault settings are checked before anything starts, naming the bad part.
    for (faults, says) in [("drop=2", "drop"), ("slow=0.1:fast", "fast"), ("flood=0.1", "unknown fault")] {
        let out = run({
            let mut c = taoscope();
            c.args(["devnet", "--listen", "127.0.0.1:0", "--faults", faults]);
            c
        });
        assert_eq!(out.status.code(), Some(2), "{faults}: a usage error");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says) && !stderr.contains("panicked"), "{faults}: {stderr}");
    }
}
