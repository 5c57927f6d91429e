package promote

import (
	"fmt"
	"time"
)

// formatDuration writes d to the minute past an hour ("2h13m"), to the
// minute past a minute ("45m"), else in seconds ("42s"); time.ParseDuration
// reads all of them.
func formatDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// formatLeft is formatDuration rounded up, so that waiting that long is
// enough.
func formatLeft(d time.Duration) string {
	if d >= time.Minute && d%time.Minute != 0 {
		d = d.Truncate(time.Minute) + time.Minute
	} else if d < time.Minute && d%time.Second != 0 {
		d = d.Truncate(time.Second) + time.Second
	}
	return formatDuration(d)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
