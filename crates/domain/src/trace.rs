//! W3C Trace Context: the `traceparent` every event carries (the
//! CloudEvents Distributed Tracing extension), so that a request and every
//! event it leads to, across roles and processes, share one trace id. A
//! request's own `traceparent` header joins its trace; without one, the
//! work starts a new trace.

use std::fmt;

/// One span's place in a trace, as `00-<trace-id>-<parent-id>-<flags>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: u128,
    pub span_id: u64,
    /// Trace flags; bit 0 is "sampled", decided by whoever began the trace.
    pub flags: u8,
}

fn nonzero_u64() -> u64 {
    loop {
        let v = rand::random::<u64>();
        if v != 0 {
            return v;
        }
    }
}

impl TraceParent {
    /// The first span of a new trace, to be recorded (the sampled flag
    /// set); a server that samples its traces clears it with [`Self::sampled`].
    pub fn root() -> TraceParent {
        let trace_id = loop {
            let v = rand::random::<u128>();
            if v != 0 {
                break v;
            }
        };
        TraceParent {
            trace_id,
            span_id: nonzero_u64(),
            flags: SAMPLED,
        }
    }

    /// This span, marked as recorded or not.
    pub fn sampled(self, sampled: bool) -> TraceParent {
        TraceParent {
            flags: if sampled {
                self.flags | SAMPLED
            } else {
                self.flags & !SAMPLED
            },
            ..self
        }
    }

    /// The trace id as the W3C form writes it, for log lines.
    pub fn trace_id_hex(&self) -> impl fmt::Display + use<> {
        TraceIdHex(self.trace_id)
    }

    /// A new span in the same trace, caused by this one.
    pub fn child(&self) -> TraceParent {
        TraceParent {
            span_id: nonzero_u64(),
            ..*self
        }
    }

    /// Read a `traceparent` value. Versions other than `00` are read by
    /// their first four fields, as the W3C recommendation asks; all-zero
    /// ids, version `ff` and anything malformed are refused.
    pub fn parse(s: &str) -> Option<TraceParent> {
        let s = s.trim();
        let mut parts = s.splitn(5, '-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let rest = parts.next();
        let hex = |p: &str, len: usize| {
            p.len() == len && p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if !(hex(version, 2) && hex(trace, 32) && hex(span, 16) && hex(flags, 2))
            || version == "ff"
            || (version == "00" && rest.is_some())
        {
            return None;
        }
        let t = TraceParent {
            trace_id: u128::from_str_radix(trace, 16).ok()?,
            span_id: u64::from_str_radix(span, 16).ok()?,
            flags: u8::from_str_radix(flags, 16).ok()?,
        };
        (t.trace_id != 0 && t.span_id != 0).then_some(t)
    }
}

/// Trace flags bit 0: the caller may have recorded the span.
const SAMPLED: u8 = 0x01;

struct TraceIdHex(u128);

impl fmt::Display for TraceIdHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id, self.span_id, self.flags
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_the_w3c_form() {
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let t = TraceParent::parse(s).unwrap();
        assert_eq!(t.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(t.flags, 1);
        assert_eq!(t.to_string(), s);
        let child = t.child();
        assert_eq!((child.trace_id, child.flags), (t.trace_id, 1));
        assert_ne!(child.span_id, t.span_id);
        // A later version with more fields is read by its first four.
        assert!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz")
                .is_some()
        );
    }

    #[test]
    fn refuses_what_the_recommendation_refuses() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
        let root = TraceParent::root();
        assert_eq!(TraceParent::parse(&root.to_string()), Some(root));
    }
}
