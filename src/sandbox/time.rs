//! RFC 3339 timestamps in China Standard Time, as WeChat Pay writes them.

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS+08:00`.
pub(crate) fn rfc3339_cst(unix: i64) -> String {
    let t = unix + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339_cst(0), "1970-01-01T08:00:00+08:00");
        // 2020-12-01T16:18:12+08:00 from the API docs' example.
        assert_eq!(
            super::rfc3339_cst(1_606_810_692),
            "2020-12-01T16:18:12+08:00"
        );
        assert_eq!(super::rfc3339_cst(951_782_400), "2000-02-29T08:00:00+08:00");
    }
}
