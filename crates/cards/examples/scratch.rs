use classkeys_cards::{Card, Paper, render};
use std::time::Instant;
fn main() {
    let names = [
        "Zoë Adams",
        "Łukasz Kowalski",
        "Αλέξανδρος Παπαδόπουλος",
        "Анастасия Смирнова",
        "Nguyễn Thị Hà",
        "<script>alert(1)</script>",
        "Ann\u{202E}ekim 😀 漢字",
        "Maximilian-Alexander Wolfeschlegelsteinhausen-Bergerdorff",
    ];
    let rows: Vec<(String, String, String)> = (0..1000)
        .map(|i| {
            (
                names[i % names.len()].to_owned(),
                format!("learner.{i:03}"),
                format!("Il1O0-otter-{i:03}"),
            )
        })
        .collect();
    let cards: Vec<Card> = rows
        .iter()
        .map(|(n, u, p)| Card {
            name: n,
            class: "3 Badgers",
            username: u,
            password: Some(p),
            sign_in_url: "https://keys.demo-primary.example/s/demo/sign-in",
            qr_url: "https://keys.demo-primary.example/s/demo/sign-in",
        })
        .collect();
    for n in [8usize, 30, 1000] {
        let t = Instant::now();
        let pdf = render("Demo Primary", &cards[..n], Paper::A4).unwrap();
        println!("{n} cards: {} bytes, {:?}", pdf.len(), t.elapsed());
        std::fs::write(format!("/tmp/scratch-{n}.pdf"), &pdf).unwrap();
    }
}
