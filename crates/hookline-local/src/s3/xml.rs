//! The little XML S3's REST API answers with: a document of nested elements with escaped text.

/// S3's XML namespace (S3 API Reference, e.g. ListObjectsV2 "Response Syntax").
const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// An XML document being written.
pub(crate) struct Doc {
    out: String,
    open: Vec<&'static str>,
}

impl Doc {
    /// A document whose root element is `root`, in S3's namespace when `namespaced` (result
    /// documents are, `<Error>` is not).
    pub(crate) fn new(root: &'static str, namespaced: bool) -> Doc {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push('<');
        out.push_str(root);
        if namespaced {
            out.push_str(" xmlns=\"");
            out.push_str(NAMESPACE);
            out.push('"');
        }
        out.push('>');
        Doc {
            out,
            open: vec![root],
        }
    }

    /// `<name>value</name>`.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        escape_into(&mut self.out, value);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Opens `<name>`; [`Doc::close`] closes it.
    pub(crate) fn open(&mut self, name: &'static str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.open.push(name);
    }

    /// Closes the innermost open element.
    pub(crate) fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
    }

    /// The document, every open element closed.
    pub(crate) fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// Text content needs `&`, `<` and `>` escaped (quotes only inside attributes, which S3's
/// documents do not have).
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Control characters S3 keys may hold, as character references (what S3 sends;
            // clients that cannot read them list with `encoding-type=url`).
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n') => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_elements_nest() {
        let mut doc = Doc::new("R", true);
        doc.open("A");
        doc.text("K", "a<b>&\"c'\r");
        let xml = doc.finish();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <A><K>a&lt;b&gt;&amp;\"c'&#xD;</K></A></R>"
        );
    }
}
