//! The manifest parser and validator: any text is a manifest or a located, readable error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match hookline_manifest::parse(text, "hookline.toml") {
        Ok(manifest) => {
            for provider in &manifest.providers {
                let _ = provider.ingest_binary();
                let _ = provider.process_binary();
            }
        }
        Err(err) => {
            let message = err.to_string();
            assert!(
                message.starts_with("hookline.toml"),
                "an error that does not name the file: {message}"
            );
        }
    }
});
