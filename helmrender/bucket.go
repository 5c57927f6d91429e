package helmrender

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// SourceBucket is a chart path of a Bucket (S3 API, providers generic and
// aws), downloaded with minio-go as source-controller does.
const SourceBucket SourceKind = "Bucket"

// BucketSource is a Bucket's spec and the accesskey/secretkey of its
// secretRef (never printed).
type BucketSource struct {
	// Provider is spec.provider: "generic" (default) or "aws".
	Provider   string
	Endpoint   string
	BucketName string
	Prefix     string
	Region     string
	// Insecure is spec.insecure: plain HTTP to the endpoint.
	Insecure             bool
	AccessKey, SecretKey string
	// Ignore is spec.ignore: .sourceignore patterns on top of the
	// bucket's own .sourceignore object.
	Ignore string
}

// id names the bucket in errors and cache keys, without credentials.
func (b *BucketSource) id() string {
	return strings.TrimSuffix(b.Endpoint, "/") + "/" + b.BucketName + "/" + b.Prefix
}

// loadBucket lists the objects under the prefix (less those .sourceignore
// and spec.ignore exclude), computes source-controller's revision of the
// listing (sha256 over the sorted "key etag" lines), downloads the objects
// into the cache once per revision (bucket/<bucket key>/<revision>/, by
// object key as source-controller lays them out) and loads the chart
// directory src.Chart from it. Offline, the revision of the last listing
// is used.
func (f *Fetcher) loadBucket(ctx context.Context, src ChartSource) (*Loaded, error) {
	b := src.Bucket
	if b == nil {
		return nil, fmt.Errorf("no bucket given")
	}
	base := filepath.Join(f.cacheDir(), "bucket", keyOf(b.id()))
	last := filepath.Join(base, "last")
	var rev string
	if f.Offline {
		data, err := os.ReadFile(last)
		if err != nil {
			return nil, fmt.Errorf("offline and bucket %s was never listed", b.id())
		}
		rev = string(data)
	} else {
		c, err := bucketClient(b)
		if err != nil {
			return nil, err
		}
		index, err := bucketIndex(ctx, c, b)
		if err != nil {
			return nil, err
		}
		rev = indexRevision(index)
		dir := filepath.Join(base, strings.TrimPrefix(rev, "sha256:"))
		if _, err := os.Stat(dir); err != nil {
			if err := downloadBucket(ctx, c, b, index, base, dir); err != nil {
				return nil, err
			}
		}
		if err := writeAtomic(last, []byte(rev)); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(base, strings.TrimPrefix(rev, "sha256:"))
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("offline and revision %s of bucket %s is not cached", rev, b.id())
	}
	chartDir, err := chartDirIn(dir, src.Chart)
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		return nil, err
	}
	return withRevisionVersion(&Loaded{Chart: ch, Version: ch.Metadata.Version, Revision: rev}, src.RevisionVersion)
}

// bucketClient is source-controller's minio client of a Bucket: static
// credentials from the Secret; without one, provider aws takes them from
// the environment, ~/.aws/credentials or the instance role, generic goes
// anonymous.
func bucketClient(b *BucketSource) (*minio.Client, error) {
	opts := &minio.Options{Region: b.Region, Secure: !b.Insecure}
	switch p := b.Provider; {
	case p != "" && p != "generic" && p != "aws":
		return nil, fmt.Errorf("bucket provider %q is not supported (generic and aws are)", p)
	case b.AccessKey != "" && b.SecretKey != "":
		opts.Creds = credentials.NewStaticV4(b.AccessKey, b.SecretKey, "")
	case p == "aws":
		opts.Creds = credentials.NewChainCredentials([]credentials.Provider{&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{}, &credentials.IAM{}})
	}
	c, err := minio.New(b.Endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("bucket endpoint %q: %w", b.Endpoint, err)
	}
	return c, nil
}

// bucketIndex maps the keys of the objects under the prefix to their
// ETags, as source-controller's fetchEtagIndex does: no "directories", no
// .sourceignore, nothing its patterns or spec.ignore exclude.
func bucketIndex(ctx context.Context, c *minio.Client, b *BucketSource) (map[string]string, error) {
	ok, err := c.BucketExists(ctx, b.BucketName)
	if err != nil {
		return nil, fmt.Errorf("confirming that bucket %s exists: %w", b.id(), err)
	}
	if !ok {
		return nil, fmt.Errorf("bucket %q not found at %s", b.BucketName, b.Endpoint)
	}
	// The bucket's own .sourceignore (at the bucket's root), then spec.ignore.
	var ps []gitignore.Pattern
	if o, err := c.GetObject(ctx, b.BucketName, sourceignore.IgnoreFile, minio.GetObjectOptions{}); err == nil {
		ps = sourceignore.ReadPatterns(o, nil)
		o.Close()
	}
	matcher := sourceignore.NewMatcher(append(ps, sourceignore.ReadPatterns(strings.NewReader(b.Ignore), nil)...))
	return listIndex(ctx, c, b, func(key string) bool { return matcher.Match(strings.Split(key, "/"), false) })
}

func listIndex(ctx context.Context, c *minio.Client, b *BucketSource, ignored func(string) bool) (map[string]string, error) {
	index := map[string]string{}
	for o := range c.ListObjects(ctx, b.BucketName, minio.ListObjectsOptions{Recursive: true, Prefix: b.Prefix}) {
		if o.Err != nil {
			return nil, fmt.Errorf("listing the objects of bucket %s: %w", b.id(), o.Err)
		}
		if strings.HasSuffix(o.Key, "/") || o.Key == sourceignore.IgnoreFile || ignored(o.Key) {
			continue
		}
		index[o.Key] = o.ETag
	}
	return index, nil
}

// indexRevision is source-controller's Bucket revision: "sha256:" and the
// digest of the sorted "key etag\n" lines.
func indexRevision(index map[string]string) string {
	keys := make([]string, 0, len(index))
	for k := range index {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s %s\n", k, index[k])
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}

// downloadBucket downloads the objects of index into a temporary
// directory of base and renames it to dir, so a cached revision is
// always complete.
func downloadBucket(ctx context.Context, c *minio.Client, b *BucketSource, index map[string]string, base, dir string) error {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(base, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for key, etag := range index {
		p := filepath.Join(tmp, filepath.FromSlash(key))
		if rel, err := filepath.Rel(tmp, p); err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("bucket %s: object key %q leaves the bucket", b.id(), key)
		}
		opts := minio.GetObjectOptions{}
		if err := opts.SetMatchETag(etag); err != nil {
			return err
		}
		if err := c.FGetObject(ctx, b.BucketName, key, p, opts); err != nil {
			return fmt.Errorf("downloading %s from bucket %s: %w", key, b.id(), err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return nil // another run downloaded it meanwhile
		}
		return err
	}
	return nil
}
