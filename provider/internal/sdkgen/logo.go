package sdkgen

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
)

// serveLogoOffline makes http.Get of logoURL (the only request a generator
// makes) return the local file, and every other request fail, until restore
// is called.
func serveLogoOffline(logoURL, path string) (restore func(), err error) {
	var logo []byte
	if path != "" {
		if logo, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	previous := http.DefaultClient.Transport
	http.DefaultClient.Transport = offlineLogo{url: logoURL, logo: logo}
	return func() { http.DefaultClient.Transport = previous }, nil
}

type offlineLogo struct {
	url  string
	logo []byte
}

func (o offlineLogo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.String() != o.url || o.logo == nil {
		return nil, fmt.Errorf("SDK generation is offline: no local copy of %s (set the schema's logoUrl and pass its file)", req.URL)
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"image/png"}},
		Body:       io.NopCloser(bytes.NewReader(o.logo)),
		Request:    req,
	}, nil
}
