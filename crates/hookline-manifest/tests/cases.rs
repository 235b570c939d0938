//! The manifest cases of `tests/cases.json`: each manifest is accepted, or rejected with exactly
//! the field and message it names (or, for a TOML syntax error, with a message that mentions the
//! given text). `${schemes}` in a message stands for the registered scheme names, in order.

use hookline_manifest::parse;
use serde_json::Value;

#[test]
fn every_case_is_read_as_it_says() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases.json");
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 40, "the cases went missing");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let result = parse(case["toml"].as_str().unwrap(), "hookline.toml");
        let problem = match (result, &case["error"], &case["parseError"]) {
            (Ok(_), Value::Null, Value::Null) if case["accepted"] == true => None,
            (Err(err), expected, Value::Null) if !expected.is_null() => {
                let got = serde_json::json!({ "field": err.field, "message": err.message });
                let expected: Value = serde_json::from_str(
                    &expected
                        .to_string()
                        .replace("${schemes}", &hookline_manifest::SCHEMES.join(", ")),
                )
                .unwrap();
                (got != expected).then(|| format!("got {got}, expected {expected}"))
            }
            (Err(err), Value::Null, expected) if !expected.is_null() => {
                let mentions = expected["mentions"].as_str().unwrap();
                (!err.to_string().contains(mentions))
                    .then(|| format!("`{err}` does not mention `{mentions}`"))
            }
            (Ok(_), ..) => Some("accepted, but an error was expected".to_owned()),
            (Err(err), ..) => Some(format!("rejected with `{err}`, but it should be accepted")),
        };
        if let Some(problem) = problem {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
