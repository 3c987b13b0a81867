//! `GET /exports/{dataset}.parquet`: the filter and the database are checked before the
//! response starts (400, 503 as JSON); then the file streams as the writer produces it. Once
//! streaming has started an error can only abort the body (and is logged); a client that goes
//! away stops the export.

use std::io::Write;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::{Dataset, Export, ExportError, ExportFilter};
use crate::ApiState;
use crate::error::error_chain;

/// The media type of the files.
pub const PARQUET_CONTENT_TYPE: &str = "application/vnd.apache.parquet";
/// Bytes per body chunk.
const CHUNK_BYTES: usize = 256 * 1024;
/// Body chunks buffered ahead of the client.
const CHUNKS_AHEAD: usize = 4;

/// `GET /exports/{file}` where `file` is `<dataset>.parquet`, with query parameters `netuid`,
/// `from_block`, `to_block` and (candles) `interval`.
pub async fn handler(
    State(state): State<ApiState>,
    Path(file): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let Some(name) = file.strip_suffix(".parquet") else {
        let body = serde_json::json!({
            "status": "not_found",
            "code": "NOT_FOUND",
            "reason": format!("no export {file:?}; exports are /exports/<dataset>.parquet"),
        });
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    };
    let prepared = async {
        let dataset: Dataset = name.parse()?;
        let Query(pairs) = query.map_err(|_| ExportError::BadInput("malformed query string".into()))?;
        let filter = ExportFilter::from_query_pairs(pairs)?;
        Export::start(state.pool(), dataset, &filter).await
    };
    let export = match prepared.await {
        Ok(export) => export,
        Err(e) => return e.into_response(),
    };
    let dataset = export.dataset();
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_AHEAD);
    let watch = tx.clone();
    tokio::spawn(async move {
        let sink = ChannelWriter { tx, buf: BytesMut::new() };
        let result = tokio::select! {
            result = export.run(sink, |_| {}) => result,
            () = watch.closed() => {
                tracing::info!(dataset = dataset.name(), "export stopped: the client went away");
                return;
            }
        };
        match result {
            Ok(stats) => tracing::info!(
                dataset = dataset.name(),
                rows = stats.rows,
                bytes = stats.bytes,
                seconds = format!("{:.2}", stats.seconds),
                "export sent"
            ),
            Err(e) => {
                tracing::error!(dataset = dataset.name(), error = %error_chain(&e), "export failed mid-stream");
                // An error item makes the server abort the body instead of ending it cleanly.
                let _ = watch.send(Err(std::io::Error::other("export failed"))).await;
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let disposition = format!("attachment; filename=\"{}.parquet\"", dataset.name());
    (
        [
            (header::CONTENT_TYPE, PARQUET_CONTENT_TYPE.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// The writer thread's sink: bytes into the response body, in chunks, waiting for the client.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: BytesMut,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = self.buf.split().freeze();
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
