//! What the SQS endpoint's tests share: a server with an aws-sdk-sqs client on it, and a few
//! calls every test makes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use hookline_local::sqs::SqsServer;

pub async fn start(dir: &std::path::Path) -> (SqsServer, Client) {
    let server = SqsServer::start("127.0.0.1:0".parse().unwrap(), dir)
        .await
        .unwrap();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(server.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .load()
        .await;
    (server, Client::new(&config))
}

pub async fn create(
    client: &Client,
    name: &str,
    attributes: &[(QueueAttributeName, &str)],
) -> String {
    let mut request = client.create_queue().queue_name(name);
    for (key, value) in attributes {
        request = request.attributes(key.clone(), *value);
    }
    request.send().await.unwrap().queue_url.unwrap()
}

pub async fn receive(client: &Client, url: &str, max: i32) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

pub async fn count(client: &Client, url: &str, attribute: QueueAttributeName) -> u64 {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(attribute.clone())
        .send()
        .await
        .unwrap();
    out.attributes.unwrap()[&attribute].parse().unwrap()
}

/// One HTTP/1.1 request over a plain TCP stream (no client library in between).
pub async fn raw(endpoint: &str, target: &str, body: &str) -> (u16, serde_json::Value) {
    let (status, _, json) = raw_with_head(endpoint, target, body).await;
    (status, json)
}

/// [`raw`], with the response's head (status line and headers) as sent.
pub async fn raw_with_head(
    endpoint: &str,
    target: &str,
    body: &str,
) -> (u16, String, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {target}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, json) = response.split_once("\r\n\r\n").unwrap();
    (status, head.to_owned(), serde_json::from_str(json).unwrap())
}

/// The value of header `name` in a response head, when it is there once.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    let mut values = head.lines().skip(1).filter_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    });
    let first = values.next();
    values.next().is_none().then_some(first).flatten()
}
