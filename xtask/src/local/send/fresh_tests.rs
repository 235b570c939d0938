//! `send`'s deliveries are new events (`hookline_local::fresh`), for every template's samples.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hookline::sign::Signer;

use crate::local::send::{sign_body, sign_new_event};
use crate::project;
use crate::repo::templates;

/// A secret every scheme's signer takes: the local stack's for that scheme.
fn signer(scheme: &hookline::Scheme) -> Signer {
    let credentials = scheme.local_credentials(&[7; 32]);
    Signer::new(scheme.clone(), &credentials.sign).unwrap()
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
            let url = "https://example.com/webhooks/p";
            let name = &template.name;
            let Some(original) = sign_body(&signer, name, &sample, url, &sample.body)
                .unwrap()
                .dedup_id
            else {
                continue;
            };
            let ids: Vec<Option<String>> = (0..2)
                .map(|_| {
                    sign_new_event(&signer, name, &sample, url, Some(&original))
                        .unwrap()
                        .dedup_id
                })
                .collect();
            let what = format!("{} {}", template.name, sample.event_type);
            assert!(ids[0].is_some(), "{what}: no dedup id");
            if ids[0] == ids[1] || ids[0].as_deref() == Some(original.as_str()) {
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
