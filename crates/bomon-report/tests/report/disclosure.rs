//! A department with a planted small count - 4 persons of 59 (6.78 %)
//! outside the labour market, against peers at 1 % - is flagged; no output
//! may print the 4 or the 6.78 %.

use std::collections::HashMap;
use std::path::Path;

use bomon_engine::config::ReviewConfig;
use bomon_engine::data::{Dept, Panel};
use bomon_engine::peers::peer_groups;
use bomon_engine::review::annual;
use bomon_engine::triage::triage;
use bomon_report::ReportInput;
use bomon_report::{department_charts, Disclosure};

use bomon_store::Catalogue;
use calamine::{open_workbook, Data, Reader, Xlsx};

const FIRST: i32 = 2021;
const YEARS: usize = 5;
const NAME: &str = "Æblehaven Øst på Ålbæk";

fn dept(id: usize, org: &str, name: &str) -> Dept {
    Dept {
        id: format!("D{id:03}"),
        name: name.into(),
        organisation: org.into(),
        municipality: "751".into(),
        area: None,
        housing_type: "family".into(),
        tenancies: 400.0,
        construction_year: 1960.0 + id as f64,
        covariates: HashMap::new(),
    }
}

/// outside_labour_18_64 for 2021-2025; the target has 1 of 59 until 2024
/// and 4 of 59 in 2025; 30 peers have 10 of 1,000.
fn panel() -> Panel {
    let mut depts = vec![dept(0, "Egen", NAME)];
    depts.extend((1..=30).map(|i| dept(i, "Andre", &format!("Peer {i}"))));
    let n = depts.len();
    let inds = vec![
        "outside_labour_18_64".to_string(),
        "residents".into(),
        "households".into(),
    ];
    let mut num = vec![vec![f64::NAN; n * YEARS]; 3];
    let mut den = vec![vec![f64::NAN; n * YEARS]; 3];
    for d in 0..n {
        for y in 0..YEARS {
            let k = d * YEARS + y;
            if d == 0 {
                num[0][k] = if y == YEARS - 1 { 4.0 } else { 1.0 };
                den[0][k] = 59.0;
            } else {
                num[0][k] = 10.0;
                den[0][k] = 1000.0;
            }
            num[1][k] = 1000.0;
            num[2][k] = 400.0;
        }
    }
    Panel {
        first_year: FIRST,
        years: YEARS,
        depts,
        indicators: inds,
        num,
        den,
        category: vec![Some("orange".into()); n],
    }
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_planted_small_count_never_leaks_and_danish_letters_survive() {
    let p = panel();
    let cat = Catalogue::builtin();
    let mut cfg = ReviewConfig::default();
    cfg.peers.covariates = vec!["construction_year".into()];
    // The arcsine scale flags 4 of 59 against 1 % (z = 2.5); the default
    // logit scale is more cautious with under one expected person.
    cfg.share_scale = "arcsine".into();
    let scope = vec![0];
    let (peers, covs) = peer_groups(&p.depts, &scope, &cfg.peers);
    let review = annual(&p, &cat, 2025, &scope, &peers, covs, &cfg);
    // Not vacuous: the department is flagged on the planted count.
    assert!(review
        .findings
        .iter()
        .any(|f| f.dept == 0 && f.severity.is_some() && f.numerator == 4.0));
    let tri = triage(&review, &p, &cat, &cfg, true);
    let manifest = serde_json::json!({
        "snapshot": 1, "snapshot_created": "2026-01-01T00:00:00Z", "created": "2026-01-02T00:00:00Z",
        "alarms": 1, "alerts": 1, "needs_assessment": 1, "expected_false_alarms": 0.1,
        "engine_version": "test", "config_sha256": "c0ffee", "catalogue_sha256": "cafe",
        "store": "store", "inputs": [], "organisation": "Egen", "review": "annual", "period": "2025",
    });
    let mut history = HashMap::new();
    history.insert(
        0usize,
        vec![
            ("2024".to_string(), "yellow".to_string()),
            ("2025".into(), "orange".into()),
        ],
    );
    // Through the publisher, as a review run does: data files and the report.
    let dir = tempfile::tempdir().unwrap();
    let info = bomon_engine::RunInfo {
        kind: "annual".into(),
        period: "2025".into(),
        organisation: Some("Egen".into()),
        snapshot: 1,
        store: "store".into(),
        inputs: vec![],
        config: serde_json::to_value(&cfg).unwrap(),
        config_sha256: cfg.sha256(),
        run_seconds: 0.0,
        phases: vec![],
    };
    let run = bomon_engine::Run {
        findings: bomon_engine::Findings::Annual(review),
        triage: tri,
        panel: p,
        info,
        manifest_extra: serde_json::json!({}),
        extras: vec![],
        config: cfg.clone(),
        danish: true,
        category_history: history,
        assessments: HashMap::new(),
        log_counts: (0, 1, 0),
        scope_name: "Egen".into(),
        no_denominator: vec![],
        lists: None,
    };
    let written = bomon_report::publish(
        &run,
        &cat,
        dir.path(),
        Some(&bomon_report::pdf::Printer::off("test")),
    )
    .unwrap();
    // tests.parquet: a test built on the suppressed count carries no figure
    // that gives it away - z and p invert to the count given the denominator
    // and the reference, so they are null too.
    {
        use polars::prelude::*;
        let f = std::fs::File::open(dir.path().join("tests.parquet")).unwrap();
        let df = ParquetReader::new(f).finish().unwrap();
        let hidden = df
            .clone()
            .lazy()
            .filter(col("suppressed"))
            .collect()
            .unwrap();
        assert!(
            hidden.height() > 0,
            "the planted count is suppressed somewhere"
        );
        for c in ["value", "numerator", "z", "p", "q"] {
            assert_eq!(
                hidden.column(c).unwrap().null_count(),
                hidden.height(),
                "{c}"
            );
        }
        // Tests not built on a small count keep their figures.
        let shown = df.lazy().filter(col("suppressed").not()).collect().unwrap();
        assert!(shown.height() > 0 && shown.column("z").unwrap().null_count() < shown.height());
    }
    let input = ReportInput {
        review: run.review(),
        triage: &run.triage,
        panel: &run.panel,
        catalogue: &cat,
        manifest: &manifest,
        config: &cfg,
        danish: true,
        quarterly: None,
        category_history: &run.category_history,
        assessments: &run.assessments,
        log_counts: (0, 1, 0),
        lists: None,
    };
    let names: Vec<String> = written
        .iter()
        .map(|w| w.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    for n in [
        "flags.csv",
        "departments.csv",
        "report.html",
        "review.xlsx",
        "charts",
        "manifest.json",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    // The data files, too: the count and the rate are left out of CSV.
    let flags = std::fs::read_to_string(dir.path().join("flags.csv")).unwrap();
    let mut r = csv::Reader::from_reader(flags.as_bytes());
    let head = r.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let mut d000 = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[0] == "D000" {
            d000 += 1;
            assert_eq!(&rec[col("numerator")], "", "numerator left out");
            assert_eq!(&rec[col("suppressed")], "true");
            assert_eq!(
                &rec[col("value")],
                "",
                "the rate, change or slope is left out"
            );
        }
    }
    assert!(d000 > 0);
    let deps = std::fs::read_to_string(dir.path().join("departments.csv")).unwrap();
    assert!(deps.contains(NAME), "Danish letters in CSV");
    for x in ["6,78", "6.78", "0.0677", "0.0678"] {
        assert!(!flags.contains(x) && !deps.contains(x), "CSV prints {x}");
    }

    // The chart specs leave the department's suppressed points out.
    let disc = Disclosure {
        max_suppressed: cfg.max_suppressed_numerator,
    };
    let charts = department_charts(&input, 0, &disc);
    assert!(!charts.is_empty());
    for c in &charts {
        if let bomon_report::charts::Spec::Funnel { points, .. } = &c.chart.spec {
            assert!(points.iter().all(|p| !p.2), "the focus point is suppressed");
        }
        if let bomon_report::charts::Spec::Trend { department, .. } = &c.chart.spec {
            assert!(
                department.iter().all(Option::is_none),
                "1 and 4 persons: all suppressed"
            );
        }
    }

    // Text outputs: HTML and SVG. The rate 4/59 = 6.78 % in any spelling.
    let forbidden = [
        "6,78", "6.78", "6,8 %", "6.8 %", "0.0678", "1,69", "1.69", "1,7 %",
    ];
    let mut svgs = 0;
    for f in files(dir.path()) {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "html" || ext == "svg" || ext == "txt" {
            let text = std::fs::read_to_string(&f).unwrap();
            for x in forbidden {
                assert!(!text.contains(x), "{} prints {x}", f.display());
            }
            assert!(
                text.contains("ikke til offentliggørelse"),
                "{} is not marked",
                f.display()
            );
            if ext == "svg" {
                svgs += 1;
                assert!(text.contains("Æblehaven Øst på Ålbæk"), "{}", f.display());
            }
        }
        if ext == "png" {
            let b = std::fs::read(&f).unwrap();
            assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}", f.display());
        }
    }
    // A level finding is shown by its funnel (no trend: nothing developed),
    // and the category history; the suppressed point is named, not drawn.
    assert!(svgs >= 2, "funnel and categories: {svgs}");
    let funnel_svg = files(dir.path())
        .into_iter()
        .find(|f| f.to_string_lossy().ends_with("-funnel.svg"))
        .expect("a funnel");
    let text = std::fs::read_to_string(funnel_svg).unwrap();
    assert!(
        text.contains("&lt;5 - ikke vist") || text.contains("<5 - ikke vist"),
        "the suppressed point is noted"
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains("under 5 personer (undertrykt)"),
        "the finding says it is suppressed"
    );
    assert!(html.contains("id=\"triage-table\"") && html.contains("<svg"));
    assert!(html.contains(NAME));
    assert!(html.contains("Internt arbejdsredskab - ikke til offentliggørelse"));
    assert!(
        !html.contains("http://")
            || html
                .matches("http://")
                .all(|_| html.contains("http://www.w3.org"))
    );
    assert!(
        !html.contains("https://"),
        "self-contained: no network references"
    );

    // The workbook: expected sheets, marking, no leaked count or rate.
    let mut wb: Xlsx<_> = open_workbook(dir.path().join("review.xlsx")).unwrap();
    let sheets = wb.sheet_names().to_vec();
    assert_eq!(sheets[0], "Prioritering");
    assert_eq!(sheets[1], "Markeringer");
    assert!(
        sheets.iter().any(|s| s.starts_with("D000 Æblehaven")),
        "{sheets:?}"
    );
    assert_eq!(sheets.last().unwrap(), "Vurderingsskema");
    for s in &sheets {
        let r = wb.worksheet_range(s).unwrap();
        let first = r.get((0, 0)).map(|c| c.to_string()).unwrap_or_default();
        assert!(first.contains("ikke til offentliggørelse"), "{s}: {first}");
        for row in r.rows() {
            for c in row {
                match c {
                    Data::Float(v) => {
                        assert!(
                            (v - 6.779661).abs() > 0.01 && (v - 0.0678).abs() > 0.001,
                            "{s}: {v}"
                        );
                        assert!((v - 1.694915).abs() > 0.01, "{s}: {v}");
                        // ln(4): the change from 1 to 4 persons.
                        assert!((v - 4f64.ln()).abs() > 0.001, "{s}: {v}");
                    }
                    Data::String(t) => {
                        for x in forbidden {
                            assert!(!t.contains(x), "{s}: {t}");
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // The flags sheet shows the department's count as "<5".
    let flags = wb.worksheet_range("Markeringer").unwrap();
    let head: Vec<String> = flags
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let num_col = head.iter().position(|h| h == "tæller").unwrap();
    let mut rows = 0;
    for row in flags.rows().skip(2) {
        if row[0] == "D000" {
            rows += 1;
            assert_eq!(row[num_col].to_string(), "<5");
        }
    }
    assert!(rows > 0);
    // The form: the department asked, with its period; the form's Danish headers (the import knows them).
    let form = wb.worksheet_range("Vurderingsskema").unwrap();
    let head: Vec<String> = form
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .take(6)
        .map(|c| c.to_string())
        .collect();
    assert_eq!(head, bomon_vocab::form::COLUMNS.map(|c| c.da));
    assert_eq!(head[0], "Afdeling (id)");
    assert_eq!(form.get((2, 0)).unwrap().to_string(), "D000");
    assert_eq!(form.get((2, 1)).unwrap().to_string(), "2025");
}

#[test]
fn charts_render_danish_text_with_the_bundled_font() {
    use bomon_report::charts::{render, Chart, Format, Spec};
    let c = Chart {
        title: "Fraflytning - Søndervangen, Åbyhøj".into(),
        unit: "da".into(),
        x_label: String::new(),
        legend: [String::new(), String::new(), String::new()],
        caption: "Kilde: bomon · Internt - ikke til offentliggørelse".into(),
        danish: true,
        spec: Spec::Categories {
            history: vec![
                ("2024".into(), "yellow".into()),
                ("2025".into(), "red".into()),
            ],
        },
    };
    let svg = String::from_utf8(render(&c, Format::Svg).unwrap()).unwrap();
    assert!(svg.contains("Søndervangen, Åbyhøj") && svg.contains("rød") && svg.contains("gul"));
    assert!(svg.contains("ikke til offentliggørelse"));
    let png = render(&c, Format::Png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Text was drawn: the caption band holds dark pixels (no system font needed).
    let dec = png::Decoder::new(std::io::Cursor::new(png));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let w = info.width as usize;
    let band = &buf[(info.height as usize - 40) * w * 3..];
    let dark = band
        .chunks(3)
        .filter(|p| p[0] < 128 && p[1] < 128 && p[2] < 128)
        .count();
    assert!(dark > 200, "caption text rendered: {dark} dark pixels");
}
