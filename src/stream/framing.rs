//! SSE framing (WHATWG "event stream" interpretation) over bytes.
//!
//! Lines end in LF, CRLF or CR; a blank line ends an event. A CR at the end
//! of the input so far may be followed by an LF in the next chunk: that LF
//! belongs to the same line ending. Only the current, incomplete event is
//! buffered.

/// One complete line of an event, as offsets into the event's raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    /// Start of the line.
    pub start: usize,
    /// Start of the field name (after a byte order mark on the first line
    /// of the stream).
    pub field_start: usize,
    /// End of the line content (start of its terminator).
    pub end: usize,
    /// End of the terminator.
    pub term_end: usize,
}

/// A parsed field line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field<'a> {
    /// A `:` comment line.
    Comment,
    /// `name: value`; `value_start` is the offset (in the event) where the
    /// value starts, after the colon and one optional space.
    Field { name: &'a [u8], value_start: usize },
}

/// One complete event: its raw bytes (blank line included) and its lines
/// (the terminating blank line excluded).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event<'a> {
    pub raw: &'a [u8],
    pub lines: &'a [Line],
}

impl<'a> Event<'a> {
    /// The content of a line (no terminator).
    pub fn content(&self, line: &Line) -> &'a [u8] {
        self.raw.get(line.field_start..line.end).unwrap_or_default()
    }

    /// The terminator of a line.
    pub fn terminator(&self, line: &Line) -> &'a [u8] {
        self.raw.get(line.end..line.term_end).unwrap_or_default()
    }

    /// Splits a line into its field name and value.
    pub fn field(&self, line: &Line) -> Field<'a> {
        let content = self.content(line);
        if content.first() == Some(&b':') {
            return Field::Comment;
        }
        match memchr::memchr(b':', content) {
            Some(colon) => {
                let mut value_start = line.field_start + colon + 1;
                if self.raw.get(value_start) == Some(&b' ') && value_start < line.end {
                    value_start += 1;
                }
                Field::Field {
                    name: content.get(..colon).unwrap_or_default(),
                    value_start,
                }
            }
            None => Field::Field {
                name: content,
                value_start: line.end,
            },
        }
    }

    /// The value of a field line starting at `value_start`.
    pub fn value(&self, line: &Line, value_start: usize) -> &'a [u8] {
        self.raw.get(value_start..line.end).unwrap_or_default()
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Splits a byte stream into events.
#[derive(Debug, Default)]
pub(crate) struct Framer {
    buf: Vec<u8>,
    /// Start of the current (incomplete) event in `buf`.
    ev_start: usize,
    /// Start of the current (incomplete) line in `buf`.
    line_start: usize,
    /// How far `buf` was searched for a line terminator.
    scan: usize,
    /// Complete lines of the current event, offsets relative to `ev_start`.
    lines: Vec<Line>,
    /// The last line ended with a CR at the end of the input so far: an LF
    /// next completes that CRLF.
    cr_pending: bool,
    /// No line of the stream was completed yet (a BOM may lead it).
    started: bool,
}

impl Framer {
    /// Feeds `chunk`; calls `on_event` for each complete event and writes
    /// stray bytes (an LF completing the CRLF that ended the previous
    /// event) straight to `out`.
    pub fn push<F>(&mut self, chunk: &[u8], out: &mut Vec<u8>, mut on_event: F)
    where
        F: FnMut(Event<'_>, &mut Vec<u8>),
    {
        self.buf.extend_from_slice(chunk);
        loop {
            if self.cr_pending {
                match self.buf.get(self.scan) {
                    None => break,
                    Some(b'\n') => {
                        self.cr_pending = false;
                        let rel = self.scan - self.ev_start;
                        match self.lines.last_mut() {
                            Some(l) if l.term_end == rel => {
                                l.term_end += 1;
                            }
                            _ => {
                                // The event this CR ended is already out.
                                out.push(b'\n');
                                self.ev_start += 1;
                            }
                        }
                        self.scan += 1;
                        self.line_start = self.scan;
                        continue;
                    }
                    Some(_) => self.cr_pending = false,
                }
            }
            let rest = self.buf.get(self.scan..).unwrap_or_default();
            let Some(i) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.scan = self.buf.len();
                break;
            };
            let pos = self.scan + i;
            let term_end = if self.buf.get(pos) == Some(&b'\r') {
                match self.buf.get(pos + 1) {
                    Some(b'\n') => pos + 2,
                    Some(_) => pos + 1,
                    None => {
                        self.cr_pending = true;
                        pos + 1
                    }
                }
            } else {
                pos + 1
            };
            let mut field_start = self.line_start;
            if !self.started {
                self.started = true;
                if self
                    .buf
                    .get(field_start..pos)
                    .is_some_and(|l| l.starts_with(BOM))
                {
                    field_start += BOM.len();
                }
            }
            let base = self.ev_start;
            let line = Line {
                start: self.line_start - base,
                field_start: field_start - base,
                end: pos - base,
                term_end: term_end - base,
            };
            self.scan = term_end;
            self.line_start = term_end;
            if field_start == pos {
                // A blank line: the event is complete.
                let raw = self.buf.get(base..term_end).unwrap_or_default();
                on_event(
                    Event {
                        raw,
                        lines: &self.lines,
                    },
                    out,
                );
                self.lines.clear();
                self.ev_start = term_end;
            } else {
                self.lines.push(line);
            }
        }
        self.compact();
    }

    /// Drops the bytes of events already handed out.
    fn compact(&mut self) {
        if self.ev_start == 0 {
            return;
        }
        if self.ev_start >= self.buf.len() {
            self.buf.clear();
        } else {
            self.buf.drain(..self.ev_start);
        }
        self.scan -= self.ev_start;
        self.line_start -= self.ev_start;
        self.ev_start = 0;
    }

    /// Ends the stream: returns the bytes of an incomplete final event.
    pub fn take_rest(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.buf);
        self.ev_start = 0;
        self.line_start = 0;
        self.scan = 0;
        self.lines.clear();
        self.cr_pending = false;
        rest
    }

    /// Bytes currently buffered (the incomplete event).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event's raw bytes and its (name, value) fields.
    type Framed = (Vec<u8>, Vec<(String, String)>);

    /// Events of `input` fed in `chunks`, and the bytes passed on.
    fn frame(input: &[u8], chunk: usize) -> (Vec<Framed>, Vec<u8>) {
        let mut f = Framer::default();
        let mut events = Vec::new();
        let mut out = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            f.push(c, &mut out, |ev, out| {
                let mut fields = Vec::new();
                for l in ev.lines {
                    match ev.field(l) {
                        Field::Comment => fields.push((":".into(), String::new())),
                        Field::Field { name, value_start } => fields.push((
                            String::from_utf8_lossy(name).into(),
                            String::from_utf8_lossy(ev.value(l, value_start)).into(),
                        )),
                    }
                }
                out.extend_from_slice(ev.raw);
                events.push((ev.raw.to_vec(), fields));
            });
        }
        out.extend_from_slice(&f.take_rest());
        (events, out)
    }

    #[test]
    fn line_endings_and_fields() {
        let input: &[u8] =
            b"\xEF\xBB\xBFevent: a\r\ndata:x\rdata:  y\n: comment\nid\n\r\ndata: z\r\r\ndata: tail";
        for chunk in 1..input.len() + 1 {
            let (events, out) = frame(input, chunk);
            assert_eq!(out, input, "chunk {chunk}");
            assert_eq!(events.len(), 2, "chunk {chunk}");
            let fields: Vec<(&str, &str)> = events[0]
                .1
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            assert_eq!(
                fields,
                [
                    ("event", "a"),
                    ("data", "x"),
                    ("data", " y"),
                    (":", ""),
                    ("id", "")
                ]
            );
            if chunk >= input.len() {
                assert_eq!(events[1].0, b"data: z\r\r\n");
            }
        }
    }

    #[test]
    fn only_the_incomplete_event_is_buffered() {
        let mut f = Framer::default();
        let mut out = Vec::new();
        let mut n = 0;
        for _ in 0..1000 {
            f.push(b"data: {\"type\":\"ping\"}\n\n", &mut out, |_, _| n += 1);
        }
        f.push(b"data: par", &mut out, |_, _| n += 1);
        assert_eq!(n, 1000);
        assert_eq!(f.buffered(), 9);
    }
}
