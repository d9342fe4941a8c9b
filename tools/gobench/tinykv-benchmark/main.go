// tinykv-benchmark: a lean Go load generator for tinykv, the counterpart of etcd's own
// tools/benchmark. It takes the same connection/client model (--conns gRPC connections,
// --clients goroutines sharing them round-robin, --total requests) and prints its result
// with etcd's pkg/report, so the two tools' numbers are computed the same way.
//
// Two ways to talk to a store, chosen by --mode:
//
//	unary  one gRPC call per request (RawPut / RawGet / RawScan), as clientv3 does;
//	batch  one BatchCommands stream per connection; every request waiting when the
//	       stream's sender wakes leaves in one message (tinykv's own client protocol;
//	       TiKV's client-go batches the same way).
//
// Requests go to the leader (found with Admin/Status, like etcd's --target-leader); a
// region error or a failed call counts as an error in the report, nothing is retried.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/pkg/report"
	"google.golang.org/grpc"

	"tinykv/gen/kvrpcpb"
)

const (
	methodGet    = "/tinykvpb.TinyKv/RawGet"
	methodPut    = "/tinykvpb.TinyKv/RawPut"
	methodScan   = "/tinykvpb.TinyKv/RawScan"
	methodBatch  = "/tinykvpb.TinyKv/BatchCommands"
	methodStatus = "/tinykvpb.Admin/Status"
)

type options struct {
	endpoints    []string
	conns        int
	clients      int
	total        int
	mode         string
	keySize      int
	valSize      int
	keySpaceSize int
	seqKeys      bool
	key          string
	end          string
	limit        int
	timeout      time.Duration
}

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		usage()
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	var o options
	eps := fs.String("endpoints", "127.0.0.1:20160", "comma-separated store addresses; requests go to the leader among them")
	fs.IntVar(&o.conns, "conns", 1, "gRPC connections to the leader")
	fs.IntVar(&o.clients, "clients", 1, "concurrent clients (goroutines) sharing the connections")
	fs.IntVar(&o.total, "total", 10000, "requests in all")
	fs.StringVar(&o.mode, "mode", "unary", "unary (a gRPC call per request) or batch (BatchCommands streams)")
	fs.IntVar(&o.keySize, "key-size", 8, "put: key size in bytes")
	fs.IntVar(&o.valSize, "val-size", 8, "put: value size in bytes")
	fs.IntVar(&o.keySpaceSize, "key-space-size", 1, "put: keys drawn from this many")
	fs.BoolVar(&o.seqKeys, "sequential-keys", false, "put: keys in order instead of at random")
	fs.StringVar(&o.key, "key", "", "get: the key read by every request; scan: the first key")
	fs.StringVar(&o.end, "end", "", "scan: the key after the last (empty: no bound)")
	fs.IntVar(&o.limit, "limit", 0, "scan: at most this many pairs (0: no limit)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline of each request")
	fs.Parse(os.Args[2:])
	o.endpoints = strings.Split(*eps, ",")
	if o.conns < 1 || o.clients < 1 || o.total < 1 || o.keySpaceSize < 1 {
		fail("--conns, --clients, --total and --key-space-size must be at least 1")
	}
	if o.mode != "unary" && o.mode != "batch" {
		fail("--mode must be unary or batch, got %q", o.mode)
	}
	var gen func(i int) *kvrpcpb.BatchRequest
	switch cmd {
	case "put":
		gen = putRequests(o)
	case "get":
		req := &kvrpcpb.RawGetRequest{Key: []byte(o.key)}
		gen = func(int) *kvrpcpb.BatchRequest {
			return &kvrpcpb.BatchRequest{Cmd: &kvrpcpb.BatchRequest_RawGet{RawGet: req}}
		}
	case "scan":
		req := &kvrpcpb.RawScanRequest{StartKey: []byte(o.key), EndKey: []byte(o.end), Limit: uint32(o.limit)}
		gen = func(int) *kvrpcpb.BatchRequest {
			return &kvrpcpb.BatchRequest{Cmd: &kvrpcpb.BatchRequest_RawScan{RawScan: req}}
		}
	default:
		usage()
	}
	leader := findLeader(o.endpoints, o.timeout)
	conns := make([]*grpc.ClientConn, o.conns)
	senders := make([]sender, o.conns)
	for i := range conns {
		c, err := grpc.Dial(leader, grpc.WithInsecure(), grpc.WithBlock(),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
		if err != nil {
			fail("dial %s: %v", leader, err)
		}
		conns[i] = c
		if o.mode == "batch" {
			senders[i] = newBatchSender(c)
		} else {
			senders[i] = unarySender{c}
		}
	}
	run(o, senders, gen)
	for i, c := range conns {
		senders[i].close()
		c.Close()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: tinykv-benchmark put|get|scan [flags]   (tinykv-benchmark put -h for the flags)")
	os.Exit(2)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tinykv-benchmark: "+format+"\n", args...)
	os.Exit(1)
}

// putRequests makes the i-th put: a key as etcd's benchmark makes it (a varint of the key
// number in key-size bytes), a value of val-size bytes.
func putRequests(o options) func(int) *kvrpcpb.BatchRequest {
	value := make([]byte, o.valSize)
	for i := range value {
		value[i] = 'v'
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewSource(1))
	return func(i int) *kvrpcpb.BatchRequest {
		k := make([]byte, o.keySize)
		n := i % o.keySpaceSize
		if !o.seqKeys {
			mu.Lock()
			n = rng.Intn(o.keySpaceSize)
			mu.Unlock()
		}
		binary.PutVarint(k, int64(n))
		return &kvrpcpb.BatchRequest{Cmd: &kvrpcpb.BatchRequest_RawPut{RawPut: &kvrpcpb.RawPutRequest{Key: k, Value: value}}}
	}
}

// findLeader asks every endpoint for its status and returns the one that says it leads.
func findLeader(endpoints []string, timeout time.Duration) string {
	for _, ep := range endpoints {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		c, err := grpc.DialContext(ctx, ep, grpc.WithInsecure(), grpc.WithBlock())
		if err == nil {
			var st kvrpcpb.StatusResponse
			err = c.Invoke(ctx, methodStatus, &kvrpcpb.StatusRequest{}, &st)
			c.Close()
			if err == nil && st.Role == "leader" {
				cancel()
				return ep
			}
		}
		cancel()
	}
	fail("no leader among %s", strings.Join(endpoints, ","))
	return ""
}

// run starts the clients, each taking the next request number until --total are done,
// and prints etcd's report of the results.
func run(o options, senders []sender, gen func(int) *kvrpcpb.BatchRequest) {
	r := report.NewReport("%4.4f")
	var next int64 = -1
	var wg sync.WaitGroup
	out := r.Run()
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func(s sender) {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(o.total) {
					return
				}
				req := gen(int(i))
				ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
				st := time.Now()
				err := s.send(ctx, req)
				cancel()
				r.Results() <- report.Result{Err: err, Start: st, End: time.Now()}
			}
		}(senders[c%len(senders)])
	}
	wg.Wait()
	close(r.Results())
	fmt.Println(<-out)
}

type sender interface {
	send(ctx context.Context, req *kvrpcpb.BatchRequest) error
	// close says the run is over: what fails on the connection from now on is expected.
	close()
}

// answerError turns what an answer carries (a region error or an error text) into an error.
func answerError(regionErr interface{ String() string }, isSet bool, text string) error {
	if isSet {
		return fmt.Errorf("region error: %s", regionErr.String())
	}
	if text != "" {
		return fmt.Errorf("error: %s", text)
	}
	return nil
}
