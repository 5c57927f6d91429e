package helmrender

// CurrentFromStorage is CurrentRelease over any Helm storage driver, so
// tests can read releases that Helm's own actions recorded in memory.
var CurrentFromStorage = currentRelease
