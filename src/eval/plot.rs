//! The confusion matrix and the calibration of a report, drawn as one SVG (plotters).

use plotters::prelude::*;

use super::Report;

/// Draws `report` titled `title` into an SVG document and returns it.
pub fn svg(report: &Report, title: &str) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1000, 480)).into_drawing_area();
        draw(&root, report, title).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    report: &Report,
    title: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let (left, right) = root.split_horizontally(480);

    // Confusion matrix: rows expected tier 1-4, columns given tier 0-4.
    let mut chart = ChartBuilder::on(&left)
        .caption(
            "Confusion (rows: expected tier, columns: given)",
            ("sans-serif", 15),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(30)
        .build_cartesian_2d(0i32..5i32, 1i32..5i32)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(5)
        .y_labels(4)
        .x_desc("given")
        .y_desc("expected")
        .draw()?;
    let max = report
        .confusion
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for expected in 1..5usize {
        for given in 0..5usize {
            let n = report.confusion[expected][given];
            let shade = n as f64 / max;
            // Child protection given early help or less is the error that matters most: red.
            let colour = if expected == 4 && given <= 2 {
                RGBColor(200, 30, 30).mix(0.2 + 0.8 * shade)
            } else {
                RGBColor(30, 90, 180).mix(0.05 + 0.9 * shade)
            };
            let (x, y) = (given as i32, expected as i32);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1, y + 1)],
                colour.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                n.to_string(),
                (x, y + 1),
                ("sans-serif", 16).into_font(),
            )))?;
        }
    }

    // Calibration: mean predicted probability against the observed rate, per bin.
    let mut cal = ChartBuilder::on(&right)
        .caption("Calibration (predicted vs observed)", ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
    cal.configure_mesh()
        .x_desc("predicted probability")
        .y_desc("observed share")
        .draw()?;
    cal.draw_series(LineSeries::new(
        vec![(0.0, 0.0), (1.0, 1.0)],
        BLACK.mix(0.3),
    ))?;
    for (bins, colour, label) in [
        (&report.calibration_tier4, RGBColor(200, 30, 30), "tier 4"),
        (
            &report.calibration_immediate,
            RGBColor(30, 90, 180),
            "immediate",
        ),
    ] {
        let points: Vec<(f64, f64)> = bins
            .iter()
            .filter(|b| b.count > 0)
            .map(|b| (b.predicted, b.observed))
            .collect();
        cal.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        cal.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 4, colour.filled())),
        )?;
    }
    cal.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_svg_is_drawn_with_the_counts() {
        let mut r = Report::default();
        r.confusion[4][2] = 3;
        r.confusion[1][1] = 7;
        let s = svg(&r, "test").unwrap();
        assert!(s.starts_with("<svg"));
        assert!(s.contains(">7<") || s.contains(">7\n") || s.contains("\n7\n"));
    }
}
