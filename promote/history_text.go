package promote

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// historyHeader is the `promote history` table.
var historyHeader = []string{"TIME", "TO", "FROM", "COMMIT", "BRANCH", "PINS", "EVIDENCE", "LIVE"}

// WriteHistoryTable renders the ledger as a kubectl-style table, newest
// first, then each promotion's pins and the branches origin has that the
// checkout lacks.
func WriteHistoryTable(w io.Writer, h *History, pal printers.Palette) error {
	if len(h.Promotions) == 0 {
		where := "any environment"
		if h.Environment != "" {
			where = h.Environment
		}
		if _, err := fmt.Fprintf(w, "No promotions to %s on %s (%s) or its promote branches.\n", where, h.Base, short(h.BaseCommit)); err != nil {
			return err
		}
	} else {
		rows := make([][]string, 0, len(h.Promotions))
		for _, p := range h.Promotions {
			rows = append(rows, []string{p.Time.Format("2006-01-02 15:04"), p.To, promotionFrom(p), short(p.Commit),
				strings.Join(p.Branches, ","), strconv.Itoa(len(p.Pins)), evidenceText(p.Evidence), liveText(p.Live, pal)})
		}
		if err := printers.Table(w, historyHeader, rows); err != nil {
			return err
		}
	}
	var b strings.Builder
	for _, p := range h.Promotions {
		if len(p.Pins) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s\n", pal.Bold(short(p.Commit)), p.Subject)
		for _, m := range p.Pins {
			fmt.Fprintf(&b, "  %s: %s → %s (%s:%d)\n", m.Key, m.Old, m.New, m.File, m.Line)
		}
	}
	if len(h.Unfetched) > 0 {
		fmt.Fprintf(&b, "\nOn %s, not fetched (git fetch %s to list them):\n", pipeline.PushRemote, pipeline.PushRemote)
		for _, u := range h.Unfetched {
			fmt.Fprintf(&b, "  %s at %s\n", u.Branch, short(u.Commit))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func promotionFrom(p Promotion) string {
	switch {
	case p.RolledBackTo != "":
		return "rollback to " + short(p.RolledBackTo)
	case p.From != nil:
		return p.From.Environment + "@" + short(p.From.Commit)
	}
	return "-"
}

func evidenceText(e Evidence) string {
	var parts []string
	if e.Soaked != "" {
		parts = append(parts, "soaked "+e.Soaked)
	}
	if v := e.Verified; v != nil {
		if v.Kustomizations+v.HelmReleases > 0 {
			parts = append(parts, fmt.Sprintf("verified %d Ks, %d HRs", v.Kustomizations, v.HelmReleases))
		} else {
			parts = append(parts, "verified")
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func liveText(l *PromotionLive, pal printers.Palette) string {
	switch {
	case l == nil:
		return "-"
	case l.Current && l.Healthy:
		return pal.Green("current, healthy")
	case l.Current:
		return pal.Red("current, NOT healthy")
	case l.Running:
		return "superseded"
	}
	return "not running"
}
