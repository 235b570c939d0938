//! The envelope decoder: any text either is refused or decodes to an envelope that encodes
//! and decodes back to itself.
#![no_main]

use hookline::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(envelope) = Envelope::from_json(text) {
        let again = Envelope::from_json(&envelope.to_json());
        assert_eq!(
            again.as_ref(),
            Ok(&envelope),
            "an envelope did not survive a round trip"
        );
        let _ = envelope.form();
        let _ = envelope.body_text();
    }
});
