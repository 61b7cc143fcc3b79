//! Login cards checked as a printer and a reader would: `pdftotext` finds every name (in
//! any script) and every username and password, `pdfinfo` gives the paper size and page
//! count, and a page rendered by `pdftoppm` has ink in each of its eight cards.
//! (Debian package poppler-utils.)

use std::path::Path;
use std::process::Command;

use classkeys_cards::{CARDS_PER_PAGE, Card, Paper, render};

const NAMES: [&str; 10] = [
    "Zoë Adams",
    "Łukasz Kowalski",
    "Αλέξανδρος Παπαδόπουλος",
    "Анастасия Смирнова",
    "Nguyễn Thị Hà",
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://x\")",
    "Maximilian-Alexander Wolfeschlegelsteinhausen-Bergerdorff",
    "Ann\u{202E}ekim",
    "Søren Ørsted",
];

fn cards(names: &[String], passwords: &[String]) -> Vec<(String, String, String)> {
    names
        .iter()
        .zip(passwords)
        .enumerate()
        .map(|(i, (n, p))| (n.clone(), format!("learner.{i:02}"), p.clone()))
        .collect()
}

fn make(paper: Paper, count: usize) -> (Vec<u8>, Vec<(String, String, String)>) {
    let names: Vec<String> = (0..count)
        .map(|i| NAMES[i % NAMES.len()].to_owned())
        .collect();
    let passwords: Vec<String> = (0..count).map(|i| format!("sunny-otter-{i:02}")).collect();
    let rows = cards(&names, &passwords);
    let list: Vec<Card<'_>> = rows
        .iter()
        .enumerate()
        .map(|(i, (name, username, password))| Card {
            name,
            class: "3 Badgers",
            username,
            password: (i != 1).then_some(password.as_str()),
            sign_in_url: "https://keys.demo-primary.example/s/demo/sign-in",
            qr_url: "https://keys.demo-primary.example/s/demo/sign-in",
        })
        .collect();
    (render("Demo Primary", &list, paper).unwrap(), rows)
}

fn tool(name: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} runs (Debian package poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn every_name_username_and_password_can_be_read_back_from_the_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let (pdf, rows) = make(Paper::A4, 10);
    let path = write(dir.path(), "cards.pdf", &pdf);
    let text = String::from_utf8(tool("pdftotext", &[&path, "-"])).unwrap();
    for (i, (name, username, password)) in rows.iter().enumerate() {
        let shown: String = name.chars().filter(|c| *c != '\u{202E}').collect();
        if shown.chars().count() < 40 {
            assert!(text.contains(&shown), "{shown} is on the cards:\n{text}");
        }
        assert!(text.contains(username.as_str()), "{username}");
        if i == 1 {
            assert!(
                !text.contains(password.as_str()),
                "no password for a learner-set one"
            );
        } else {
            assert!(text.contains(password.as_str()), "{password}");
        }
    }
    assert!(text.contains("Set by the learner"));
    assert!(text.contains("https://keys.demo-primary.example/s/demo/sign-in"));
    // A name too long for the card is shortened, not spilled over the next one.
    assert!(text.contains("Maximilian-Alexander"), "{text}");
    let info = String::from_utf8(tool("pdfinfo", &[&path])).unwrap();
    assert!(info.contains("Pages:           2"), "{info}");
    assert!(info.contains("595.276 x 841.89 pts (A4)"), "{info}");
    assert!(pdf.len() < 400_000, "fonts are subset: {} bytes", pdf.len());
}

#[test]
fn letter_paper_is_us_letter() {
    let dir = tempfile::tempdir().unwrap();
    let (pdf, _) = make(Paper::Letter, 3);
    let path = write(dir.path(), "letter.pdf", &pdf);
    let info = String::from_utf8(tool("pdfinfo", &[&path])).unwrap();
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");
    assert!(info.contains("Pages:           1"), "{info}");
}

#[test]
fn a_full_page_has_ink_in_each_of_its_eight_cards() {
    let dir = tempfile::tempdir().unwrap();
    let (pdf, _) = make(Paper::A4, CARDS_PER_PAGE);
    let path = write(dir.path(), "page.pdf", &pdf);
    let prefix = dir.path().join("page");
    tool(
        "pdftoppm",
        &[
            "-gray",
            "-r",
            "40",
            "-f",
            "1",
            "-l",
            "1",
            &path,
            prefix.to_str().unwrap(),
        ],
    );
    if let Ok(out) = std::env::var("CLASSKEYS_CARDS_PNG") {
        tool(
            "pdftoppm",
            &[
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                &path,
                &out,
            ],
        );
    }
    let pgm = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pgm"))
        .expect("a rendered page");
    let bytes = std::fs::read(pgm).unwrap();
    // Binary PGM: "P5\n<w> <h>\n255\n" then one byte per pixel.
    let header: Vec<&[u8]> = bytes.splitn(4, |b| b.is_ascii_whitespace()).collect();
    let (w, h): (usize, usize) = (
        std::str::from_utf8(header[1]).unwrap().parse().unwrap(),
        std::str::from_utf8(header[2]).unwrap().parse().unwrap(),
    );
    let pixels = &bytes[bytes.len() - w * h..];
    let white = pixels.iter().filter(|p| **p > 200).count();
    assert!(white * 10 > pixels.len() * 7, "mostly white paper");
    // Each card cell (inside the 10 mm margins) has dark ink: text and a QR code.
    let margin = w * 10 / 210;
    let (cell_w, cell_h) = ((w - 2 * margin) / 2, (h - 2 * margin) / 4);
    for row in 0..4 {
        for col in 0..2 {
            let dark = (0..cell_h)
                .flat_map(|y| (0..cell_w).map(move |x| (x, y)))
                .filter(|(x, y)| {
                    let px = margin + col * cell_w + x;
                    let py = margin + row * cell_h + y;
                    pixels[py * w + px] < 80
                })
                .count();
            assert!(dark > 200, "card {row},{col} has ink ({dark} dark pixels)");
        }
    }
}
