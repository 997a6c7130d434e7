// Command gcpsm is the test suite's Google Cloud Secret Manager emulator.
//
// Why our own: the third-party emulator module we meant to build
// (github.com/blackwell-systems/gcp-secret-manager-emulator) is refused by the Go module proxy
// this project builds from, and Google ships no Secret Manager emulator. This one serves Google's
// own gRPC service definition (cloud.google.com/go/secretmanager/apiv1/secretmanagerpb), so the
// provider talks to it with Google's official client exactly as to secretmanager.googleapis.com.
//
// What it does as Google does (the parts a reader depends on):
//   - secrets under projects/{p} and regional ones under projects/{p}/locations/{l}; names come
//     back with the project NUMBER, as the real API returns them, while requests take either;
//   - versions numbered from 1, the "latest" alias, ENABLED/DISABLED/DESTROYED states with
//     FAILED_PRECONDITION "... is in DISABLED state" on access, payload CRC32C, 64 KiB payloads;
//   - ListSecrets filters (https://cloud.google.com/secret-manager/docs/filtering): terms joined by
//     spaces or AND, each `labels.K=V`, `labels.K:V`, `labels.K:*`, `name:S` (substring) or `name=S`;
//   - the OAuth 2.0 JWT-bearer grant of service-account keys
//     (https://developers.google.com/identity/protocols/oauth2/service-account#httprest) at POST
//     /token, checked against the key given with -sa-key; with -require-auth every gRPC call
//     must carry a Bearer token this endpoint issued (UNAUTHENTICATED otherwise).
//
// gRPC (HTTP/2 without TLS) and plain HTTP (/healthz, /token) share one port.
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	pb "cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const maxPayload = 64 * 1024

type version struct {
	num     int64
	state   pb.SecretVersion_State
	data    []byte
	created time.Time
}

type secret struct {
	// parent as stored: projects/{number} or projects/{number}/locations/{l}
	parent      string
	id          string
	labels      map[string]string
	annotations map[string]string
	created     time.Time
	versions    []*version
	etag        int64
}

type server struct {
	pb.UnimplementedSecretManagerServiceServer
	mu      sync.Mutex
	secrets map[string]*secret // key: parent + "/secrets/" + id
	tokens  map[string]time.Time
	saKey   *rsa.PublicKey
	saEmail string
	auth    bool
}

// projectNumber gives every project id a stable number, as Google assigns one per project.
func projectNumber(p string) string {
	if _, err := strconv.ParseUint(p, 10, 64); err == nil {
		return p
	}
	sum := sha256.Sum256([]byte(p))
	n := uint64(0)
	for _, b := range sum[:8] {
		n = n<<8 | uint64(b)
	}
	return strconv.FormatUint(100000000000+n%900000000000, 10)
}

// parseParent accepts projects/{p} and projects/{p}/locations/{l}; returns the canonical parent.
func parseParent(s string) (string, error) {
	parts := strings.Split(s, "/")
	switch {
	case len(parts) == 2 && parts[0] == "projects" && parts[1] != "":
		return "projects/" + projectNumber(parts[1]), nil
	case len(parts) == 4 && parts[0] == "projects" && parts[1] != "" && parts[2] == "locations" && parts[3] != "":
		return "projects/" + projectNumber(parts[1]) + "/locations/" + parts[3], nil
	}
	return "", status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request. %q", s)
}

func validID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseSecretName splits {parent}/secrets/{id}[/versions/{v}].
func parseSecretName(s string, withVersion bool) (key string, ver string, err error) {
	i := strings.Index(s, "/secrets/")
	if i < 0 {
		return "", "", status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request. %q", s)
	}
	parent, err := parseParent(s[:i])
	if err != nil {
		return "", "", err
	}
	rest := s[i+len("/secrets/"):]
	id := rest
	if withVersion {
		j := strings.Index(rest, "/versions/")
		if j < 0 {
			return "", "", status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request. %q", s)
		}
		id, ver = rest[:j], rest[j+len("/versions/"):]
		if ver == "" {
			return "", "", status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request. %q", s)
		}
	}
	if !validID(id) {
		return "", "", status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request. %q", s)
	}
	return parent + "/secrets/" + id, ver, nil
}

func (s *secret) name() string { return s.parent + "/secrets/" + s.id }

func (s *secret) toPB() *pb.Secret {
	out := &pb.Secret{
		Name:        s.name(),
		Labels:      copyMap(s.labels),
		Annotations: copyMap(s.annotations),
		CreateTime:  timestamppb.New(s.created),
		Etag:        fmt.Sprintf("\"%d\"", s.etag),
	}
	if !strings.Contains(s.parent, "/locations/") {
		out.Replication = &pb.Replication{Replication: &pb.Replication_Automatic_{Automatic: &pb.Replication_Automatic{}}}
	}
	return out
}

func (s *secret) versionPB(v *version) *pb.SecretVersion {
	return &pb.SecretVersion{Name: fmt.Sprintf("%s/versions/%d", s.name(), v.num), CreateTime: timestamppb.New(v.created), State: v.state}
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func notFound(what, name string) error {
	return status.Errorf(codes.NotFound, "%s [%s] not found or has no versions.", what, name)
}

func (srv *server) lookup(name string) (*secret, error) {
	key, _, err := parseSecretName(name, false)
	if err != nil {
		return nil, err
	}
	sec := srv.secrets[key]
	if sec == nil {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found.", key)
	}
	return sec, nil
}

// lookupVersion resolves {secret}/versions/{n|latest}.
func (srv *server) lookupVersion(name string) (*secret, *version, error) {
	key, ver, err := parseSecretName(name, true)
	if err != nil {
		return nil, nil, err
	}
	sec := srv.secrets[key]
	if sec == nil {
		return nil, nil, notFound("Secret", key)
	}
	if ver == "latest" {
		if len(sec.versions) == 0 {
			return nil, nil, notFound("Secret", key)
		}
		return sec, sec.versions[len(sec.versions)-1], nil
	}
	n, perr := strconv.ParseInt(ver, 10, 64)
	if perr != nil || n < 1 {
		return nil, nil, status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request. %q", name)
	}
	for _, v := range sec.versions {
		if v.num == n {
			return sec, v, nil
		}
	}
	return nil, nil, notFound("Secret Version", fmt.Sprintf("%s/versions/%d", key, n))
}

func (srv *server) CreateSecret(_ context.Context, r *pb.CreateSecretRequest) (*pb.Secret, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	parent, err := parseParent(r.GetParent())
	if err != nil {
		return nil, err
	}
	if !validID(r.GetSecretId()) {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid secret_id %q", r.GetSecretId())
	}
	key := parent + "/secrets/" + r.GetSecretId()
	if srv.secrets[key] != nil {
		return nil, status.Errorf(codes.AlreadyExists, "Secret [%s] already exists.", key)
	}
	sec := &secret{parent: parent, id: r.GetSecretId(), labels: copyMap(r.GetSecret().GetLabels()), annotations: copyMap(r.GetSecret().GetAnnotations()), created: time.Now(), etag: 1}
	srv.secrets[key] = sec
	return sec.toPB(), nil
}

func (srv *server) GetSecret(_ context.Context, r *pb.GetSecretRequest) (*pb.Secret, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	sec, err := srv.lookup(r.GetName())
	if err != nil {
		return nil, err
	}
	return sec.toPB(), nil
}

func (srv *server) UpdateSecret(_ context.Context, r *pb.UpdateSecretRequest) (*pb.Secret, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	sec, err := srv.lookup(r.GetSecret().GetName())
	if err != nil {
		return nil, err
	}
	for _, p := range r.GetUpdateMask().GetPaths() {
		switch p {
		case "labels":
			sec.labels = copyMap(r.GetSecret().GetLabels())
		case "annotations":
			sec.annotations = copyMap(r.GetSecret().GetAnnotations())
		default:
			return nil, status.Errorf(codes.InvalidArgument, "unsupported update_mask path %q", p)
		}
	}
	sec.etag++
	return sec.toPB(), nil
}

func (srv *server) DeleteSecret(_ context.Context, r *pb.DeleteSecretRequest) (*emptypb.Empty, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	sec, err := srv.lookup(r.GetName())
	if err != nil {
		return nil, err
	}
	delete(srv.secrets, sec.name())
	return &emptypb.Empty{}, nil
}

// filterTerm is one term of a ListSecrets filter.
type filterTerm struct{ field, op, value string }

func parseFilter(f string) ([]filterTerm, error) {
	var out []filterTerm
	for _, word := range strings.Fields(f) {
		if word == "AND" {
			continue
		}
		i := strings.IndexAny(word, ":=")
		if i <= 0 {
			return nil, status.Errorf(codes.InvalidArgument, "Invalid filter %q", f)
		}
		t := filterTerm{field: word[:i], op: word[i : i+1], value: strings.Trim(word[i+1:], "\"")}
		if t.field != "name" && !strings.HasPrefix(t.field, "labels.") {
			return nil, status.Errorf(codes.InvalidArgument, "Invalid filter %q: unsupported field %q", f, t.field)
		}
		out = append(out, t)
	}
	return out, nil
}

func (t filterTerm) matches(s *secret) bool {
	var have string
	var ok bool
	if t.field == "name" {
		have, ok = s.id, true
	} else {
		have, ok = s.labels[strings.TrimPrefix(t.field, "labels.")]
	}
	if !ok {
		return false
	}
	if t.op == "=" {
		return have == t.value
	}
	return t.value == "*" || strings.Contains(have, t.value)
}

// page cuts a sorted list at an offset token; tokens are offsets, opaque to clients.
func page(total int, size int32, token string) (start, end int, next string, err error) {
	if token != "" {
		n, perr := strconv.Atoi(token)
		if perr != nil || n < 0 || n > total {
			return 0, 0, "", status.Errorf(codes.InvalidArgument, "Invalid page token")
		}
		start = n
	}
	if size <= 0 || size > 25000 {
		size = 25000
	}
	end = start + int(size)
	if end >= total {
		return start, total, "", nil
	}
	return start, end, strconv.Itoa(end), nil
}

func (srv *server) ListSecrets(_ context.Context, r *pb.ListSecretsRequest) (*pb.ListSecretsResponse, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	parent, err := parseParent(r.GetParent())
	if err != nil {
		return nil, err
	}
	terms, err := parseFilter(r.GetFilter())
	if err != nil {
		return nil, err
	}
	var matched []*secret
	for _, sec := range srv.secrets {
		if sec.parent != parent {
			continue
		}
		all := true
		for _, t := range terms {
			all = all && t.matches(sec)
		}
		if all {
			matched = append(matched, sec)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].id < matched[j].id })
	start, end, next, err := page(len(matched), r.GetPageSize(), r.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &pb.ListSecretsResponse{NextPageToken: next, TotalSize: int32(len(matched))}
	for _, sec := range matched[start:end] {
		out.Secrets = append(out.Secrets, sec.toPB())
	}
	return out, nil
}

func (srv *server) AddSecretVersion(_ context.Context, r *pb.AddSecretVersionRequest) (*pb.SecretVersion, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	sec, err := srv.lookup(r.GetParent())
	if err != nil {
		return nil, err
	}
	data := r.GetPayload().GetData()
	if len(data) > maxPayload {
		return nil, status.Errorf(codes.InvalidArgument, "Secret Payload cannot be larger than 64KiB.")
	}
	if r.GetPayload().DataCrc32C != nil && uint32(r.GetPayload().GetDataCrc32C()) != crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)) {
		return nil, status.Errorf(codes.InvalidArgument, "Checksum mismatch.")
	}
	v := &version{num: int64(len(sec.versions) + 1), state: pb.SecretVersion_ENABLED, data: append([]byte(nil), data...), created: time.Now()}
	sec.versions = append(sec.versions, v)
	return sec.versionPB(v), nil
}

func (srv *server) GetSecretVersion(_ context.Context, r *pb.GetSecretVersionRequest) (*pb.SecretVersion, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	sec, v, err := srv.lookupVersion(r.GetName())
	if err != nil {
		return nil, err
	}
	return sec.versionPB(v), nil
}

func (srv *server) ListSecretVersions(_ context.Context, r *pb.ListSecretVersionsRequest) (*pb.ListSecretVersionsResponse, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	sec, err := srv.lookup(r.GetParent())
	if err != nil {
		return nil, err
	}
	want := pb.SecretVersion_STATE_UNSPECIFIED
	if f := strings.TrimSpace(r.GetFilter()); f != "" {
		st, ok := strings.CutPrefix(f, "state:")
		if !ok || pb.SecretVersion_State_value[st] == 0 {
			return nil, status.Errorf(codes.InvalidArgument, "Invalid filter %q", f)
		}
		want = pb.SecretVersion_State(pb.SecretVersion_State_value[st])
	}
	var matched []*version
	// Newest first, as the API lists them.
	for i := len(sec.versions) - 1; i >= 0; i-- {
		if want == pb.SecretVersion_STATE_UNSPECIFIED || sec.versions[i].state == want {
			matched = append(matched, sec.versions[i])
		}
	}
	start, end, next, err := page(len(matched), r.GetPageSize(), r.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &pb.ListSecretVersionsResponse{NextPageToken: next, TotalSize: int32(len(matched))}
	for _, v := range matched[start:end] {
		out.Versions = append(out.Versions, sec.versionPB(v))
	}
	return out, nil
}

func (srv *server) AccessSecretVersion(_ context.Context, r *pb.AccessSecretVersionRequest) (*pb.AccessSecretVersionResponse, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	sec, v, err := srv.lookupVersion(r.GetName())
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s/versions/%d", sec.name(), v.num)
	if v.state != pb.SecretVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in %s state.", name, v.state)
	}
	sum := int64(crc32.Checksum(v.data, crc32.MakeTable(crc32.Castagnoli)))
	return &pb.AccessSecretVersionResponse{Name: name, Payload: &pb.SecretPayload{Data: v.data, DataCrc32C: &sum}}, nil
}

func (srv *server) setState(name string, st pb.SecretVersion_State) (*pb.SecretVersion, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	sec, v, err := srv.lookupVersion(name)
	if err != nil {
		return nil, err
	}
	if v.state == pb.SecretVersion_DESTROYED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s/versions/%d] is in DESTROYED state.", sec.name(), v.num)
	}
	v.state = st
	if st == pb.SecretVersion_DESTROYED {
		v.data = nil
	}
	return sec.versionPB(v), nil
}

func (srv *server) DisableSecretVersion(_ context.Context, r *pb.DisableSecretVersionRequest) (*pb.SecretVersion, error) {
	return srv.setState(r.GetName(), pb.SecretVersion_DISABLED)
}

func (srv *server) EnableSecretVersion(_ context.Context, r *pb.EnableSecretVersionRequest) (*pb.SecretVersion, error) {
	return srv.setState(r.GetName(), pb.SecretVersion_ENABLED)
}

func (srv *server) DestroySecretVersion(_ context.Context, r *pb.DestroySecretVersionRequest) (*pb.SecretVersion, error) {
	return srv.setState(r.GetName(), pb.SecretVersion_DESTROYED)
}

// ---------------------------------------------------------------------------------------------
// OAuth 2.0: the JWT-bearer grant of a service-account key, and the bearer check on gRPC calls.

type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// verifyAssertion checks an RS256 JWT signed with the service account's key, as Google's token
// endpoint does: signature, issuer, audience and expiry.
func (srv *server) verifyAssertion(jwt string, tokenURL string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("Invalid JWT Signature.")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if srv.saKey == nil || rsa.VerifyPKCS1v15(srv.saKey, crypto.SHA256, digest[:], sig) != nil {
		return errors.New("Invalid JWT Signature.")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("Invalid JWT: malformed claims.")
	}
	var claims struct {
		Iss   string `json:"iss"`
		Aud   string `json:"aud"`
		Scope string `json:"scope"`
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return errors.New("Invalid JWT: malformed claims.")
	}
	now := time.Now().Unix()
	if claims.Iss != srv.saEmail {
		return errors.New("Invalid JWT: unknown issuer.")
	}
	if claims.Aud != tokenURL {
		return fmt.Errorf("Invalid JWT: audience must be %s.", tokenURL)
	}
	if claims.Exp < now || claims.Iat > now+300 || claims.Exp-claims.Iat > 3600 {
		return errors.New("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	if claims.Scope == "" {
		return errors.New("Invalid OAuth scope or ID token audience provided.")
	}
	return nil
}

func (srv *server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, tokenError{"invalid_request", "POST required"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, tokenError{"invalid_request", "malformed form"})
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		writeJSON(w, http.StatusBadRequest, tokenError{"unsupported_grant_type", "Invalid grant_type: " + r.PostForm.Get("grant_type")})
		return
	}
	tokenURL := "http://" + r.Host + "/token"
	if err := srv.verifyAssertion(r.PostForm.Get("assertion"), tokenURL); err != nil {
		writeJSON(w, http.StatusBadRequest, tokenError{"invalid_grant", err.Error()})
		return
	}
	buf := make([]byte, 24)
	_, _ = rand.Read(buf)
	tok := "ya29.emulator-" + hex.EncodeToString(buf)
	srv.mu.Lock()
	srv.tokens[tok] = time.Now().Add(time.Hour)
	srv.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

func (srv *server) checkAuth(ctx context.Context) error {
	if !srv.auth {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, h := range md.Get("authorization") {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			continue
		}
		srv.mu.Lock()
		exp, known := srv.tokens[tok]
		srv.mu.Unlock()
		if known && time.Now().Before(exp) {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
}

func loadServiceAccount(path string) (*rsa.PublicKey, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var key struct {
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(raw, &key); err != nil {
		return nil, "", err
	}
	block, _ := pem.Decode([]byte(key.PrivateKey))
	if block == nil {
		return nil, "", errors.New("private_key: no PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, "", err
	}
	rsaKey, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, "", errors.New("private_key: not an RSA key")
	}
	return &rsaKey.PublicKey, key.ClientEmail, nil
}

func main() {
	addr := flag.String("listen", "127.0.0.1:28086", "address for gRPC and HTTP")
	saKey := flag.String("sa-key", "", "service-account key JSON whose JWT assertions /token accepts")
	requireAuth := flag.Bool("require-auth", false, "require a Bearer token issued by /token on every gRPC call")
	flag.Parse()

	srv := &server{secrets: map[string]*secret{}, tokens: map[string]time.Time{}, auth: *requireAuth}
	if *saKey != "" {
		pub, email, err := loadServiceAccount(*saKey)
		if err != nil {
			log.Fatalf("-sa-key: %v", err)
		}
		srv.saKey, srv.saEmail = pub, email
	}
	g := grpc.NewServer(
		grpc.MaxRecvMsgSize(4<<20),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := srv.checkAuth(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
	)
	pb.RegisterSecretManagerServiceServer(g, srv)

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/token", srv.token)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			g.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	hs := &http.Server{Addr: *addr, Handler: h2c.NewHandler(handler, &http2.Server{}), ReadHeaderTimeout: 10 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	}()
	log.Printf("gcpsm emulator listening on %s (require-auth=%v)", *addr, *requireAuth)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
