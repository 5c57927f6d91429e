package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// hostArchive is the absolute path of this machine's archive of version
// in distDir; an error says to run `make dist` when it is not there.
func hostArchive(distDir, version string) (string, error) {
	archive, err := filepath.Abs(filepath.Join(distDir, hostPlatform().ArchiveName(version)))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(archive); err != nil {
		return "", fmt.Errorf("no archive for this machine (%s): %w (run `make dist` first)", hostPlatform(), err)
	}
	return archive, nil
}

// throwawayDir makes a temporary directory (pattern as for os.MkdirTemp)
// and returns it with its removal, to defer with the caller's named error:
// a failed removal becomes that error unless it already holds one. what
// names the directory in the messages ("KREW_ROOT", or empty).
func throwawayDir(pattern, what string) (string, func(*error), error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	name := dir
	if what != "" {
		name = what + " " + dir
	}
	return dir, func(errp *error) {
		if err := os.RemoveAll(dir); err != nil && *errp == nil {
			*errp = fmt.Errorf("removing %s: %w", name, err)
		}
		fmt.Printf("  removed %s\n", name)
	}, nil
}
