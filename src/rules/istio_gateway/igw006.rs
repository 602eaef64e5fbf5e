//! IGW006 gateway-credential-invalid.

use std::collections::HashMap;

use crate::finding::{Location, Severity};
use crate::index::{Index, Resolved};
use crate::model::Object;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IGW006",
    id: "gateway-credential-invalid",
    family: "istio-gateway",
    severity: Severity::Error,
    summary: "A Gateway's credentialName Secret has no usable certificate and key, or its certificate has expired",
    docs: include_str!("igw006.md"),
    check,
    mitigations: &[],
};

// --- Secret data -------------------------------------------------------------------------

/// Standard base64 (RFC 4648, padding optional, whitespace ignored).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None; // data after padding
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding of a final partial group (never a lone 6-bit char).
    if bits >= 6 || padding > 2 {
        return None;
    }
    Some(out)
}

/// One value of a Secret: its bytes and the node that holds it.
struct Entry<'d, 's> {
    bytes: Vec<u8>,
    node: Node<'d, 's>,
}

/// A Secret's keys: `data` (base64) overlaid by `stringData` (plain), as the API server
/// merges them. `Err` names a `data` value that is not base64.
type SecretData<'d, 's> = HashMap<&'d str, Entry<'d, 's>>;

fn secret_data<'d, 's>(secret: &Object<'d, 's>) -> Result<SecretData<'d, 's>, Node<'d, 's>> {
    let mut out = HashMap::new();
    for (k, v) in secret
        .root
        .get("data")
        .into_iter()
        .flat_map(|d| d.entries())
    {
        let Some(key) = k.as_str() else { continue };
        let text = v.as_text().unwrap_or("");
        let bytes = base64_decode(text).ok_or(v)?;
        out.insert(key, Entry { bytes, node: v });
    }
    for (k, v) in secret
        .root
        .get("stringData")
        .into_iter()
        .flat_map(|d| d.entries())
    {
        let Some(key) = k.as_str() else { continue };
        let bytes = v.as_text().unwrap_or("").as_bytes().to_vec();
        out.insert(key, Entry { bytes, node: v });
    }
    Ok(out)
}

/// SOPS-encrypted or sealed values cannot be inspected.
fn encrypted(secret: &Object<'_, '_>) -> bool {
    secret.root.get("sops").is_some()
        || ["data", "stringData"].iter().any(|k| {
            secret
                .root
                .get(k)
                .into_iter()
                .flat_map(|d| d.entries())
                .any(|(_, v)| {
                    v.as_str()
                        .is_some_and(|s| s.trim_start().starts_with("ENC["))
                })
        })
}

// --- PEM and X.509 -----------------------------------------------------------------------

/// The first PEM block: its type and decoded body.
fn first_pem_block(text: &str) -> Option<(&str, Option<Vec<u8>>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = &rest[..label_end];
    let body_start = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let Some(body_end) = body_start.find(&end_marker) else {
        return Some((label, None));
    };
    let body: String = body_start[..body_end]
        .lines()
        .filter(|l| !l.contains(':'))
        .collect();
    Some((label, base64_decode(&body)))
}

/// Every PEM block label in `text`.
fn pem_labels(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("-----BEGIN ") {
        rest = &rest[i + "-----BEGIN ".len()..];
        if let Some(end) = rest.find("-----") {
            out.push(&rest[..end]);
            rest = &rest[end..];
        } else {
            break;
        }
    }
    out
}

/// One DER TLV: (tag, contents, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, b.get(header..end)?, b.get(end..)?))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as Unix seconds.
fn der_time(tag: u8, v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?.strip_suffix('Z')?;
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (year, rest) = match tag {
        0x17 => {
            let yy = num(0..2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        0x18 => (num(0..4)?, 4),
        _ => return None,
    };
    let month = num(rest..rest + 2)?;
    let day = num(rest + 2..rest + 4)?;
    let hour = num(rest + 4..rest + 6)?;
    let min = num(rest + 6..rest + 8)?;
    let sec = num(rest + 8..rest + 10).unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// `(notBefore, notAfter)` of a DER X.509 certificate.
pub fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (0x30, cert, _) = tlv(der)? else {
        return None;
    };
    let (0x30, tbs, _) = tlv(cert)? else {
        return None;
    };
    let (mut tag, _, mut rest) = tlv(tbs)?;
    if tag == 0xa0 {
        // [0] version; the serial number follows.
        (tag, _, rest) = tlv(rest)?;
    }
    if tag != 0x02 {
        return None;
    }
    let (0x30, _, rest) = tlv(rest)? else {
        return None; // signature algorithm
    };
    let (0x30, _, rest) = tlv(rest)? else {
        return None; // issuer
    };
    let (0x30, v, _) = tlv(rest)? else {
        return None;
    };
    let (t1, nb, v) = tlv(v)?;
    let (t2, na, _) = tlv(v)?;
    Some((der_time(t1, nb)?, der_time(t2, na)?))
}

/// `YYYY-MM-DD` of Unix seconds.
fn date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

// --- The rule ----------------------------------------------------------------------------

/// What is wrong with a credential Secret, and where.
struct Problem {
    at: Location,
    what: String,
}

fn validate(secret: &Object<'_, '_>, now: i64) -> Option<Problem> {
    let data = match secret_data(secret) {
        Ok(d) => d,
        Err(node) => {
            return Some(Problem {
                at: secret.loc(node),
                what: "a `data` value is not valid base64, so the API server rejects the Secret"
                    .into(),
            });
        }
    };
    let non_empty = |k: &str| data.get(k).is_some_and(|e| !e.bytes.is_empty());
    let (cert_key, key_key) = if non_empty("cert") && non_empty("key") {
        ("cert", "key")
    } else if non_empty("tls.crt") && non_empty("tls.key") {
        ("tls.crt", "tls.key")
    } else {
        let mut found: Vec<&str> = data.keys().copied().collect();
        found.sort_unstable();
        let empty = ["tls.crt", "tls.key", "cert", "key"]
            .iter()
            .find(|k| data.get(*k).is_some_and(|e| e.bytes.is_empty()));
        let (at, what) = match empty {
            Some(k) => (secret.loc(data[k].node), format!("its `{k}` is empty")),
            None => (
                secret.loc(
                    secret
                        .root
                        .key("data")
                        .or_else(|| secret.root.key("stringData"))
                        .unwrap_or_else(|| {
                            secret
                                .metadata()
                                .and_then(|m| m.get("name"))
                                .unwrap_or(secret.root)
                        }),
                ),
                format!(
                    "it has neither `tls.crt` + `tls.key` nor `cert` + `key` (keys: {})",
                    if found.is_empty() {
                        "none".to_string()
                    } else {
                        found.join(", ")
                    }
                ),
            ),
        };
        return Some(Problem { at, what });
    };
    let cert = &data[cert_key];
    let text = String::from_utf8_lossy(&cert.bytes);
    let at = secret.loc(cert.node);
    match first_pem_block(&text) {
        None => {
            return Some(Problem {
                at,
                what: format!("its `{cert_key}` holds no PEM certificate"),
            });
        }
        Some((label, _)) if label != "CERTIFICATE" => {
            return Some(Problem {
                at,
                what: format!(
                    "the first PEM block of its `{cert_key}` is a {label}, not a CERTIFICATE"
                ),
            });
        }
        Some((_, der)) => match der.as_deref().and_then(validity) {
            None => {
                return Some(Problem {
                    at,
                    what: format!("the certificate in its `{cert_key}` does not parse as X.509"),
                });
            }
            Some((_, not_after)) if not_after < now => {
                return Some(Problem {
                    at,
                    what: format!(
                        "the certificate in its `{cert_key}` expired on {}",
                        date(not_after)
                    ),
                });
            }
            Some((not_before, _)) if not_before > now => {
                return Some(Problem {
                    at,
                    what: format!(
                        "the certificate in its `{cert_key}` is not valid before {}",
                        date(not_before)
                    ),
                });
            }
            Some(_) => {}
        },
    }
    let key = &data[key_key];
    let key_text = String::from_utf8_lossy(&key.bytes);
    if !pem_labels(&key_text)
        .iter()
        .any(|l| l.ends_with("PRIVATE KEY"))
    {
        return Some(Problem {
            at: secret.loc(key.node),
            what: format!("its `{key_key}` holds no PEM private key"),
        });
    }
    None
}

/// True if the Secret carries a CA bundle (`ca.crt` or `cacert`) for mutual TLS.
fn has_ca(secret: &Object<'_, '_>) -> bool {
    secret_data(secret).is_ok_and(|d| {
        ["ca.crt", "cacert"]
            .iter()
            .any(|k| d.get(k).is_some_and(|e| !e.bytes.is_empty()))
    })
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let workloads = ix.gateway_workloads();
    // Secret → its problem (validated once) and the servers referencing it.
    let mut problems: HashMap<usize, Option<Problem>> = HashMap::new();
    let mut refs: Vec<(usize, Location, String)> = Vec::new();
    for (g, gw) in ix.gateways.iter().enumerate() {
        let mut namespaces: Vec<&str> = workloads
            .of(g)
            .iter()
            .map(|&t| ix.templates[t].obj.namespace)
            .collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        if namespaces.is_empty() {
            namespaces.push(gw.obj.namespace);
        }
        for server in &gw.servers {
            if matches!(
                server.tls_mode,
                Some("PASSTHROUGH" | "AUTO_PASSTHROUGH" | "ISTIO_MUTUAL")
            ) {
                continue;
            }
            let Some(tls) = server.tls else { continue };
            let Some(cn_node) = tls.get("credentialName") else {
                continue;
            };
            let Some(cn) = cn_node.as_text() else {
                continue;
            };
            let cn = cn.strip_prefix("kubernetes://").unwrap_or(cn);
            if cn.contains("://") {
                continue; // builtin:// and other providers
            }
            let targets: Vec<(&str, &str)> = match cn.split_once('/') {
                Some((ns, name)) => vec![(ns, name)],
                None => namespaces.iter().map(|ns| (*ns, cn)).collect(),
            };
            let server_name = server
                .node
                .get("port")
                .and_then(|p| p.str_at("name"))
                .unwrap_or("?");
            for (ns, name) in targets {
                let Some(id) = ix.get("", "Secret", ns, name) else {
                    continue; // missing Secrets are TLS004's
                };
                let secret = &ix.objects[id];
                if encrypted(secret) {
                    continue;
                }
                let via = format!("referenced by {} server `{server_name}`", gw.obj.display());
                problems.entry(id).or_insert_with(|| validate(secret, now));
                refs.push((id, gw.obj.loc(cn_node), via.clone()));
                if server.tls_mode != Some("MUTUAL") || has_ca(secret) {
                    continue;
                }
                let ca_name = format!("{name}-cacert");
                match ix.resolve("", "Secret", ns, &ca_name) {
                    Resolved::Found(_) | Resolved::External => continue,
                    Resolved::Unknown => {
                        em.unknown(
                            gw.obj.loc(tls.get("mode").unwrap_or(cn_node)),
                            Some(gw.obj.resource()),
                            format!(
                                "{} server `{server_name}` requires client certificates \
                                 (`MUTUAL`); Secret {ns}/{name} has no `ca.crt` (or `cacert`), \
                                 and Secret {ns}/{ca_name}, where istiod also looks for the CA, \
                                 is not in the linted set: cannot tell whether clients can be \
                                 verified",
                                gw.obj.display()
                            ),
                            format!(
                                "lint Secret {ns}/{ca_name} with the Gateway, or run with \
                                 --closed-world if everything is in the set"
                            ),
                        );
                        continue;
                    }
                    Resolved::Missing { .. } => {}
                }
                let mode = tls.get("mode").unwrap_or(cn_node);
                em.violation(
                    gw.obj.loc(mode),
                    Some(gw.obj.resource()),
                    format!(
                        "{} server `{server_name}` requires client certificates (`MUTUAL`), but \
                         Secret {ns}/{name} has no `ca.crt` (or `cacert`) and there is no Secret \
                         {ns}/{ca_name}: istiod cannot build the server's client validation, and \
                         its TLS handshakes fail",
                        gw.obj.display()
                    ),
                    format!(
                        "add the client CA as `ca.crt` to Secret {ns}/{name}, or create Secret \
                         {ns}/{ca_name} with it"
                    ),
                )
                .related(secret.name_loc(), "the credential Secret");
            }
        }
    }
    let mut by_secret: HashMap<usize, Vec<(Location, String)>> = HashMap::new();
    for (id, at, via) in refs {
        by_secret.entry(id).or_default().push((at, via));
    }
    let mut ids: Vec<usize> = by_secret.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let Some(Some(problem)) = problems.get(&id) else {
            continue;
        };
        let secret = &ix.objects[id];
        let users = &by_secret[&id];
        let f = em.violation(
            problem.at,
            Some(secret.resource()),
            format!(
                "{} is the TLS credential of a Gateway, but {}: istiod cannot load it, so the \
                 gateway serves no certificate for that server and every TLS handshake on it fails",
                secret.display(),
                problem.what
            ),
            "store the PEM certificate chain as `tls.crt` and its private key as `tls.key` \
             (`kubectl create secret tls`), and renew expired certificates",
        );
        for (at, via) in users.iter().take(3) {
            f.related(*at, via.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_rejects_garbage() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVs\nbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("").as_deref(), Some(&b""[..]));
        assert!(base64_decode("not base64!").is_none());
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("aGVsbG8=x").is_none());
    }

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(days_from_civil(2099, 12, 31) * 86_400), "2099-12-31");
        assert_eq!(
            der_time(0x17, b"200101000000Z"),
            Some(days_from_civil(2020, 1, 1) * 86_400)
        );
        assert_eq!(
            der_time(0x18, b"20991231235959Z"),
            Some(days_from_civil(2099, 12, 31) * 86_400 + 86_399)
        );
        assert_eq!(der_time(0x17, b"bogus"), None);
    }

    #[test]
    fn truncated_der_is_rejected() {
        assert_eq!(validity(&[]), None);
        assert_eq!(validity(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(validity(&[0x30, 0x03, 0x30, 0x01]), None);
    }
}
