//! A deliberately tiny HTTP/1.1 keep-alive client. The bench shares two
//! cores with the server, so every microsecond the client spends is taken
//! from the server: this one writes pre-formatted request bytes and reads a
//! `Content-Length` or chunked response into a reused buffer, and nothing
//! else (no pooling, redirects, TLS or header maps as a general client
//! has). Bodies are not decompressed.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection; requests are sent one after the other.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// The status and body of the last response (the body borrows the buffer).
pub struct Response<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

impl Response<'_> {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_slice(self.body)?)
    }
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// `GET path` with a bearer token.
pub fn get(path: &str, token: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n")
        .into_bytes()
}

/// `GET path` with a bearer token, as a browser asks for a page.
pub fn get_page(path: &str, token: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
         Accept: text/html\r\nAccept-Encoding: gzip\r\n\r\n"
    )
    .into_bytes()
}

/// `POST path` with a bearer token and a JSON body.
pub fn post_json(path: &str, token: &str, body: &[u8]) -> Vec<u8> {
    send_json("POST", path, token, body)
}

/// `PATCH path` with a bearer token and a JSON body.
pub fn patch_json(path: &str, token: &str, body: &[u8]) -> Vec<u8> {
    send_json("PATCH", path, token, body)
}

fn send_json(method: &str, path: &str, token: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// An MCP message (JSON-RPC) posted to `/mcp` with a bearer token, as a
/// streamable HTTP client sends it.
pub fn post_mcp(token: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST /mcp HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         MCP-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Send one complete request and read the whole response.
    pub async fn send(&mut self, request: &[u8]) -> io::Result<Response<'_>> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let head_len = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.read_more().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_len])
            .map_err(|_| bad("response head is not UTF-8"))?;
        let status = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .filter(|_| head.starts_with("HTTP/1.1 "))
            .ok_or_else(|| bad(format!("bad status line: {:?}", head.lines().next())))?;
        let mut length = None;
        let mut chunked = false;
        for line in head.lines().skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| bad("bad content-length"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
        }
        if chunked {
            let end = self.read_chunks(head_len).await?;
            return Ok(Response {
                status,
                body: &self.buf[head_len..end],
            });
        }
        let total = head_len + length.ok_or_else(|| bad("response without content-length"))?;
        while self.buf.len() < total {
            self.read_more().await?;
        }
        if self.buf.len() > total {
            return Err(bad(
                "more bytes than one response (the bench never pipelines)",
            ));
        }
        Ok(Response {
            status,
            body: &self.buf[head_len..total],
        })
    }

    /// Read a chunked body that starts at `at`, joining its chunks in place
    /// (each moves down over the framing before it); returns where the
    /// joined body ends.
    async fn read_chunks(&mut self, at: usize) -> io::Result<usize> {
        let (mut end, mut pos) = (at, at);
        loop {
            let line_end = loop {
                if let Some(i) = self.buf[pos..].windows(2).position(|w| w == b"\r\n") {
                    break pos + i;
                }
                self.read_more().await?;
            };
            let size = std::str::from_utf8(&self.buf[pos..line_end])
                .ok()
                .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok())
                .ok_or_else(|| bad("bad chunk size"))?;
            let data = line_end + 2;
            // The chunk, its CRLF (a last chunk of size 0 has only the CRLF
            // that ends the trailers; the bench's servers send none).
            while self.buf.len() < data + size + 2 {
                self.read_more().await?;
            }
            self.buf.copy_within(data..data + size, end);
            end += size;
            pos = data + size + 2;
            if size == 0 {
                if self.buf.len() > pos {
                    return Err(bad(
                        "more bytes than one response (the bench never pipelines)",
                    ));
                }
                return Ok(end);
            }
        }
    }

    async fn read_more(&mut self) -> io::Result<()> {
        if self.buf.capacity() - self.buf.len() < 16 * 1024 {
            self.buf.reserve(64 * 1024);
        }
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        Ok(())
    }
}
