//! What a learning device parses from the host (`tinytrain_experiments::wire::sample::Frame`), on
//! arbitrary bytes: never a panic; a frame that parses says one thing, and the host's encoding of
//! that thing parses back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinytrain::data::Target;
use tinytrain_experiments::frame;
use tinytrain_experiments::wire::sample::{encode, Frame, Message};

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = Frame::parse(data) else {
        return;
    };
    let Ok(message) = frame.message() else {
        return;
    };
    // JSON has no infinity or NaN: the host writes them as `null`, which reads back as NaN (a
    // feature) or as no threshold; a host never sends a non-finite threshold
    // (nor a non-finite regression target: the CSV loader refuses them).
    match message {
        Message::Threshold { quantile: v } | Message::Sample { target: Target::Value(v), .. }
            if !v.is_finite() =>
        {
            return
        }
        _ => {}
    }
    let line = encode(&message);
    let text = std::str::from_utf8(&line).expect("the host writes UTF-8");
    let json = frame::open(text).expect("the host seals its frames");
    let again = Frame::parse(json.as_bytes()).expect("the host's frame parses");
    let same = |a: &Message<'_>, b: &Message<'_>| match (a, b) {
        // Non-finite features are NaN again (`null`); every other value keeps its bits.
        (Message::Sample { x: p, target: s }, Message::Sample { x: q, target: t }) => {
            s == t && bits(p) == bits(q)
        }
        (Message::Features { x: p }, Message::Features { x: q }) => bits(p) == bits(q),
        (Message::Score { x: p, anomaly: s }, Message::Score { x: q, anomaly: t }) => {
            s == t && bits(p) == bits(q)
        }
        (Message::Threshold { quantile: p }, Message::Threshold { quantile: q }) => {
            p.to_bits() == q.to_bits()
        }
        (a, b) => a == b,
    };
    assert!(same(&message, &again.message().unwrap()), "{message:?}");
});

/// Bit patterns, every non-finite value as one.
fn bits(values: &[f32]) -> Vec<u32> {
    values
        .iter()
        .map(|v| if v.is_finite() { v.to_bits() } else { u32::MAX })
        .collect()
}
