//! Source files and byte-offset → line/column conversion.

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A file (or stdin) that was read, with its text.
#[derive(Debug)]
pub struct SourceFile {
    /// Path as shown to the user (relative as given on the command line).
    pub path: String,
    pub text: String,
    line_starts: Vec<u32>,
}

/// 1-based line and column (columns count Unicode scalar values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

impl SourceFile {
    pub fn new(path: String, text: String) -> SourceFile {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0u32);
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    pub fn line_starts(&self) -> &[u32] {
        &self.line_starts
    }

    /// Converts a byte offset to a 1-based line and column. Offsets past the end, or inside a
    /// multi-byte character, are clamped.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = (offset as usize).min(self.text.len());
        let line = match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let mut end = offset;
        while end > start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let mut seg = &self.text[start..end];
        // A CR of a CRLF pair is not a column of its own.
        if seg.ends_with('\r') && self.text[end..].starts_with('\n') {
            seg = &seg[..seg.len() - 1];
        }
        LineCol {
            line: line as u32 + 1,
            column: seg.chars().count() as u32 + 1,
        }
    }

    /// The text of 1-based line `line`, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        let Some(&s) = self.line_starts.get(i) else {
            return "";
        };
        let e = self
            .line_starts
            .get(i + 1)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[s as usize..e].trim_end_matches(['\n', '\r'])
    }
}

/// All files of a run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }
}

/// FNV-1a (64 bit) offset basis: the start of [`fnv1a`].
pub const FNV_OFFSET: u64 = 0xcbf29ce484222325;

/// FNV-1a, 64 bit, continued from `h` over `bytes`: a small stable hash (not for security)
/// for fingerprints and name-independent orders.
pub fn fnv1a(h: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes
        .into_iter()
        .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

/// FNV-1a over strings, each followed by a NUL (so `["ab", "c"]` and `["a", "bc"]` differ).
pub fn fnv_parts<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    parts
        .into_iter()
        .fold(FNV_OFFSET, |h, p| fnv1a(h, p.bytes().chain([0u8])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_and_handles_crlf() {
        let f = SourceFile::new("a".into(), "ab\r\nçd: x\n".into());
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(2), LineCol { line: 1, column: 3 });
        // 'd' is after a two-byte 'ç'
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 2 });
        assert_eq!(f.line_text(2), "çd: x");
        assert_eq!(f.line_col(1000).line, 3);
    }
}
