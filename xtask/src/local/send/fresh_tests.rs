//! `send`'s deliveries are new events (`hookline_local::fresh`), for every template's samples.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hookline::sign::Signer;
use hookline::verify::Outgoing;

use hookline_local::fresh::{dedup_id, fresh_body};

use crate::local::send::Sample;
use crate::project;
use crate::repo::templates;

/// A secret every scheme's signer takes: the local stack's for that scheme.
fn signer(scheme: &hookline::Scheme) -> Signer {
    let credentials = scheme.local_credentials(&[7; 32]);
    Signer::new(scheme.clone(), &credentials.sign).unwrap()
}

/// The dedup id ingest gives `body` of `sample`, signed now.
fn signed_dedup_id(signer: &Signer, sample: &Sample, body: &[u8]) -> Option<String> {
    let url = "https://example.com/webhooks/p";
    let signed = signer
        .sign(&Outgoing {
            url,
            body,
            timestamp: chrono::Utc::now().timestamp(),
            delivery_id: &uuid::Uuid::new_v4().to_string(),
        })
        .unwrap();
    let mut headers = vec![("Content-Type".to_owned(), sample.content_type.clone())];
    headers.extend(sample.headers.iter().cloned());
    headers.extend(signed.headers);
    dedup_id(signer.scheme(), &signed.url, &headers, &signed.body)
}

/// Every template's every sample, sent twice by `send`, is two events: two dedup ids, neither
/// the sample's. The batches (HubSpot, SendGrid: the dedup id is the digest of the events' own
/// ids, numbers or nested) are the exception `send` says it cannot renew.
#[test]
fn every_templates_samples_become_distinct_events() {
    let mut kept = std::collections::BTreeSet::new();
    let mut checked = 0;
    for template in templates::list(&project::root()).unwrap() {
        let scheme: hookline::Scheme = template.spec.scheme.parse().unwrap();
        let signer = signer(&scheme);
        let samples = crate::local::send::samples(&template.dir.join("fixtures")).unwrap();
        for sample in samples {
            if !scheme.can_sign(&sample.body) {
                continue;
            }
            // A handshake (Zoom's URL validation) is answered, never queued: nothing to renew.
            let Some(original) = signed_dedup_id(&signer, &sample, &sample.body) else {
                continue;
            };
            let original = Some(original);
            let ids: Vec<Option<String>> = (0..2)
                .map(|_| {
                    let nonce = uuid::Uuid::new_v4().simple().to_string();
                    let body = fresh_body(
                        &sample.body,
                        &sample.content_type,
                        original.as_deref(),
                        &nonce,
                    )
                    .unwrap_or_else(|| sample.body.clone());
                    signed_dedup_id(&signer, &sample, &body)
                })
                .collect();
            let what = format!("{} {}", template.name, sample.event_type);
            assert!(ids[0].is_some(), "{what}: no dedup id");
            if ids[0] == ids[1] || ids[0] == original {
                kept.insert(template.spec.scheme.clone());
            }
            checked += 1;
        }
    }
    assert!(checked >= 16, "{checked} samples");
    assert_eq!(
        kept.into_iter().collect::<Vec<_>>(),
        ["hubspot", "sendgrid"],
        "the schemes whose samples stay one event"
    );
}
