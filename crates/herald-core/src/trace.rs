//! W3C Trace Context (`traceparent`) for deliveries: every attempt is a
//! span of its delivery's trace, continued from the `traceparent` an event
//! was posted with, or a new trace per delivery. Written by hand: the
//! header is one fixed-width line, and Herald needs only to read it and
//! write a child of it, not a tracing SDK.

use rand::Rng;
use sha2::{Digest, Sha256};

/// A parsed `traceparent` (version `00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    pub sampled: bool,
}

impl TraceParent {
    /// Reads a header as the W3C recommendation says: lowercase hex,
    /// non-zero ids, version `ff` refused, a later version read by its
    /// first four fields. `None` for anything else (which, by the
    /// recommendation, starts a new trace rather than failing).
    pub fn parse(header: &str) -> Option<TraceParent> {
        let header = header.trim();
        let fields: Vec<&str> = header.splitn(5, '-').collect();
        let [version, trace, parent, flags, rest @ ..] = fields.as_slice() else {
            return None;
        };
        let hex = |s: &str, len: usize| {
            (s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                .then(|| hex::decode(s).ok())
                .flatten()
        };
        let version = hex(version, 2)?;
        if version[0] == 0xff || (version[0] == 0 && (!rest.is_empty() || header.len() != 55)) {
            return None;
        }
        let trace_id: [u8; 16] = hex(trace, 32)?.try_into().ok()?;
        let parent_id: [u8; 8] = hex(parent, 16)?.try_into().ok()?;
        let flags = hex(flags, 2)?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            parent_id,
            sampled: flags[0] & 1 == 1,
        })
    }

    /// A new trace for a delivery: its id derived from the delivery's, so
    /// every attempt of one delivery shares it without storing it. A
    /// delivery id is a ULID, 128 bits unique to it (80 of them random):
    /// those are the trace id as they are, which costs nothing per attempt
    /// (a hash of the id, SHA-256 at first, was a noticeable share of an
    /// attempt's CPU). Anything else is hashed.
    pub fn for_delivery(delivery_id: &str) -> TraceParent {
        let ulid = delivery_id
            .rsplit_once('_')
            .and_then(|(_, ulid)| ulid::Ulid::from_string(ulid).ok())
            .filter(|ulid| !ulid.is_nil());
        let trace_id = match ulid {
            Some(ulid) => ulid.to_bytes(),
            None => {
                let digest = Sha256::digest(delivery_id.as_bytes());
                let mut trace_id = [0u8; 16];
                trace_id.copy_from_slice(&digest[..16]);
                trace_id
            }
        };
        TraceParent {
            trace_id,
            parent_id: [1; 8],
            sampled: true,
        }
    }

    /// The header of a new span (an attempt) in this trace.
    pub fn child(&self) -> String {
        String::from_utf8(self.child_header().to_vec()).expect("hex is ASCII")
    }

    /// [`TraceParent::child`] as the header's bytes, written without an
    /// allocation: one is made for every attempt.
    pub fn child_header(&self) -> [u8; 55] {
        let mut span = [0u8; 8];
        while span == [0; 8] {
            rand::rng().fill(&mut span);
        }
        let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
        write_hex(&mut out[3..35], &self.trace_id);
        write_hex(&mut out[36..52], &span);
        write_hex(&mut out[53..55], &[u8::from(self.sampled)]);
        out
    }

    pub fn trace_id_hex(&self) -> String {
        hex::encode(self.trace_id)
    }
}

impl std::fmt::Display for TraceParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.parent_id),
            u8::from(self.sampled)
        )
    }
}

/// Lowercase hex of `bytes` into `out` (twice as long).
fn write_hex(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn reads_what_the_recommendation_allows_and_nothing_else() {
        let t = TraceParent::parse(GOOD).unwrap();
        assert_eq!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(t.sampled);
        assert_eq!(t.to_string(), GOOD);
        for bad in [
            "",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
        // A later version is read by its first four fields.
        assert!(TraceParent::parse(&format!("01{}-more", &GOOD[2..])).is_some());
    }

    #[test]
    fn children_keep_the_trace_with_a_new_span() {
        let t = TraceParent::parse(GOOD).unwrap();
        let (a, b) = (t.child(), t.child());
        assert_ne!(a, b);
        let a = TraceParent::parse(&a).unwrap();
        assert_eq!(a.trace_id, t.trace_id);
        assert_ne!(a.parent_id, t.parent_id);
        assert!(a.sampled);
        let unsampled = TraceParent {
            sampled: false,
            ..t
        };
        assert!(unsampled.child().ends_with("-00"));
        assert_eq!(
            TraceParent::for_delivery("dlv_1").trace_id,
            TraceParent::for_delivery("dlv_1").trace_id
        );
    }

    #[test]
    fn a_delivery_trace_is_its_ulid_and_stable() {
        let (a, b) = (crate::ids::new_id("dlv"), crate::ids::new_id("dlv"));
        let ulid = ulid::Ulid::from_string(a.rsplit_once('_').unwrap().1).unwrap();
        assert_eq!(TraceParent::for_delivery(&a).trace_id, ulid.to_bytes());
        assert_eq!(TraceParent::for_delivery(&a), TraceParent::for_delivery(&a));
        assert_ne!(
            TraceParent::for_delivery(&a).trace_id,
            TraceParent::for_delivery(&b).trace_id
        );
        // Not a ULID: hashed, never all zeros.
        assert_ne!(TraceParent::for_delivery("dlv_x").trace_id, [0; 16]);
        assert_ne!(
            TraceParent::for_delivery("dlv_00000000000000000000000000").trace_id,
            [0; 16]
        );
    }
}
