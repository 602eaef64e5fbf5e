//! The whole pipeline: text → one to three files (split at NUL bytes, which real files cannot
//! contain) → `lint::run` (index, every rule, suppressions) → every output format (the human
//! one with and without colour). Besides not panicking: locations lie inside their files, JSON
//! and SARIF parse, the GitHub format has one workflow command per finding, and the terminal
//! formats carry no raw escape characters.

#![no_main]

use libfuzzer_sys::fuzz_target;
use meshlint::lint::{self, Settings};
use meshlint::report::{self, Format, Report};
use meshlint::source::{SourceFile, Sources};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    // The first part's first character picks options, so both worlds get fuzzed.
    let closed_world = text.starts_with('#');
    let mut sources = Sources::default();
    for (i, part) in parts.by_ref().take(3).enumerate() {
        sources.add(SourceFile::new(format!("f{i}.yaml"), part.to_string()));
    }
    let settings = Settings {
        closed_world,
        ..Settings::default()
    };
    let outcomes = lint::run(&sources, &settings);
    for f in outcomes.findings.iter().chain(&outcomes.unknown) {
        for loc in std::iter::once(f.location).chain(f.related.iter().map(|r| r.location)) {
            let file = sources.get(loc.file);
            let (s, e) = (loc.span.start as usize, loc.span.end as usize);
            assert!(s <= e && e <= file.text.len(), "{}: {s}..{e}", f.code);
            assert!(file.text.is_char_boundary(s) && file.text.is_char_boundary(e));
        }
    }
    let report = Report {
        findings: outcomes.findings,
        unknown: outcomes.unknown,
        show_unknown: true,
        files: sources.files.len(),
        objects: outcomes.objects,
        ..Report::default()
    };
    let formats = [
        (Format::Human, false),
        (Format::Human, true),
        (Format::Json, false),
        (Format::Concise, false),
        (Format::Github, false),
        (Format::Sarif, false),
    ];
    for (format, color) in formats {
        // SARIF embeds every rule's documentation (~30 ms under ASAN, the same for every input):
        // rendered for one input in eight that has findings, chosen by length (deterministic).
        if format == Format::Sarif && (report.findings.is_empty() || !data.len().is_multiple_of(8))
        {
            continue;
        }
        let mut out = Vec::new();
        report::render(format, &report, &sources, &mut out, color).expect("render");
        match format {
            Format::Json | Format::Sarif => {
                let _: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
            }
            Format::Github => {
                let lines = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
                assert_eq!(lines, report.findings.len(), "one command per finding");
            }
            Format::Concise => {
                assert!(!out.iter().any(|&b| b == 0x1b || b == b'\r'));
            }
            Format::Human if !color => {
                assert!(!out.iter().any(|&b| b == 0x1b || b == 0x07));
            }
            Format::Human => {}
        }
    }
});
