//! Reading a Server-Sent Events byte stream.

/// Splits an SSE byte stream into the `data` of its events (several `data:` lines join
/// with `\n`; comments and other fields are skipped).
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    pending: Vec<u8>,
    data: Option<String>,
}

impl LineBuffer {
    /// The `data` of every event `chunk` completes.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    events.push(data);
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                let value = value.strip_prefix(' ').unwrap_or(value);
                match &mut self.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => self.data = Some(value.to_owned()),
                }
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_frames() {
        let mut lines = LineBuffer::default();
        assert!(lines.push(b": keepalive\n\nda").is_empty());
        assert_eq!(lines.push(b"ta: {\"a\":1}\n\n"), vec!["{\"a\":1}"]);
        assert_eq!(
            lines.push(b"data: x\r\ndata: y\r\n\r\ndata:z\n\n"),
            vec!["x\ny", "z"]
        );
    }
}
