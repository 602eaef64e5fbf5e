//! Cloud Endpoints ESP (Extensible Service Proxy) containers: the image generation and the
//! ports its flags declare. ESP v1 is NGINX based: its `--http2_port` speaks only plaintext
//! HTTP/2 (h2c) and its `--ssl_port` only TLS.

use super::workload::Container;
use crate::yaml::Node;

/// `…/endpoints-runtime:1` or `:1.x` (ESP v1). ESPv2 (`:2`, Envoy based) is not.
pub fn is_esp_v1_image(image: &str) -> bool {
    let (path, tag) = match image.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') => (p, t),
        _ => (image, "latest"),
    };
    path.ends_with("/endpoints-runtime") && (tag == "1" || tag.starts_with("1."))
}

pub fn is_esp_v1(c: &Container<'_, '_>) -> bool {
    c.image.is_some_and(is_esp_v1_image)
}

/// The port a flag sets, with the argument node: `--long=N`, `--long N`, and for the ESP v1
/// image also `-S N` / `-SN` with the short form.
fn flag_port<'d, 's>(
    c: &Container<'d, 's>,
    long: &str,
    short: &str,
) -> Option<(i64, Node<'d, 's>)> {
    let esp = is_esp_v1(c);
    let eq = format!("{long}=");
    let args: Vec<(&str, Node<'d, 's>)> = c.args().collect();
    for (i, (a, n)) in args.iter().enumerate() {
        let value = if let Some(v) = a.strip_prefix(eq.as_str()) {
            Some(v)
        } else if *a == long || (esp && *a == short) {
            args.get(i + 1).map(|(v, _)| *v)
        } else if esp {
            a.strip_prefix(short).filter(|v| !v.is_empty())
        } else {
            None
        };
        if let Some(p) = value.and_then(|v| v.trim().parse::<i64>().ok()) {
            return Some((p, *n));
        }
    }
    None
}

/// ESP's `--http2_port` (`-P`): plaintext HTTP/2 only.
pub fn http2_port<'d, 's>(c: &Container<'d, 's>) -> Option<(i64, Node<'d, 's>)> {
    flag_port(c, "--http2_port", "-P")
}

/// ESP's `--ssl_port` (`-S`): TLS only.
pub fn ssl_port<'d, 's>(c: &Container<'d, 's>) -> Option<(i64, Node<'d, 's>)> {
    flag_port(c, "--ssl_port", "-S")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esp_generations() {
        assert!(is_esp_v1_image(
            "gcr.io/endpoints-release/endpoints-runtime:1"
        ));
        assert!(is_esp_v1_image(
            "gcr.io/endpoints-release/endpoints-runtime:1.58.0"
        ));
        assert!(!is_esp_v1_image(
            "gcr.io/endpoints-release/endpoints-runtime:2"
        ));
        assert!(!is_esp_v1_image("example/esp:1"));
    }
}
