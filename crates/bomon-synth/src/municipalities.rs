//! The 98 Danish municipalities with their real codes and regions
//! (`datasets/municipalities.csv`, public facts from Danmarks Statistik).

/// One municipality.
#[derive(Debug, Clone)]
pub struct Municipality {
    /// 3-digit code, e.g. "751".
    pub code: String,
    /// Name, e.g. "Aarhus".
    pub name: String,
    /// Region name.
    pub region: String,
}

/// All municipalities, in code order.
pub fn all() -> Vec<Municipality> {
    include_str!("../../../datasets/municipalities.csv")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split(',');
            Municipality {
                code: f.next().unwrap_or_default().to_string(),
                name: f.next().unwrap_or_default().to_string(),
                region: f.next().unwrap_or_default().trim().to_string(),
            }
        })
        .collect()
}

/// Mean gross income (DKK, 15-64, taxable, excluding students) by region: the
/// denominator of the income ratio. Synthetic but ordered as in reality
/// (Hovedstaden highest).
pub fn region_income(region: &str) -> f64 {
    match region {
        "Hovedstaden" => 372_000.0,
        "Midtjylland" => 331_000.0,
        "Syddanmark" => 322_000.0,
        "Sjælland" => 328_000.0,
        "Nordjylland" => 312_000.0,
        _ => 330_000.0,
    }
}

/// Relative weight of a municipality when placing departments: the large
/// cities hold most public housing.
pub fn weight(code: &str) -> f64 {
    match code {
        "101" => 14.0,
        "751" => 7.0,
        "461" => 5.0,
        "851" => 5.0,
        "147" | "167" | "169" | "183" | "153" | "165" => 2.5,
        "561" | "621" | "630" | "615" | "730" | "607" | "657" => 2.0,
        _ => 1.0,
    }
}
