package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tinykv/gen/kvrpcpb"
)

// unarySender makes one gRPC call per request.
type unarySender struct{ c *grpc.ClientConn }

func (unarySender) close() {}

func (u unarySender) send(ctx context.Context, req *kvrpcpb.BatchRequest) error {
	switch cmd := req.Cmd.(type) {
	case *kvrpcpb.BatchRequest_RawPut:
		var res kvrpcpb.RawPutResponse
		if err := u.c.Invoke(ctx, methodPut, cmd.RawPut, &res); err != nil {
			return err
		}
		return answerError(res.RegionError, res.RegionError != nil, res.Error)
	case *kvrpcpb.BatchRequest_RawGet:
		var res kvrpcpb.RawGetResponse
		if err := u.c.Invoke(ctx, methodGet, cmd.RawGet, &res); err != nil {
			return err
		}
		return answerError(res.RegionError, res.RegionError != nil, res.Error)
	case *kvrpcpb.BatchRequest_RawScan:
		var res kvrpcpb.RawScanResponse
		if err := u.c.Invoke(ctx, methodScan, cmd.RawScan, &res); err != nil {
			return err
		}
		return answerError(res.RegionError, res.RegionError != nil, res.Error)
	}
	return fmt.Errorf("no command in the request")
}

// batchSender keeps one BatchCommands stream: requests queue on a channel, a sender
// goroutine takes every one waiting and sends them in one message, a receiver goroutine
// hands each answer to the request with its id.
type batchSender struct {
	queue   chan pending
	mu      sync.Mutex
	waiting map[uint64]chan *kvrpcpb.BatchResponse
	nextID  uint64
	closed  int32 // set by close(): the stream's end is no longer an error
}

type pending struct {
	req  *kvrpcpb.BatchRequest
	done chan *kvrpcpb.BatchResponse
}

const maxBatch = 128

var streamDesc = grpc.StreamDesc{StreamName: "BatchCommands", ServerStreams: true, ClientStreams: true}

func newBatchSender(c *grpc.ClientConn) *batchSender {
	s, err := c.NewStream(context.Background(), &streamDesc, methodBatch)
	if err != nil {
		fail("open BatchCommands: %v", err)
	}
	b := &batchSender{queue: make(chan pending, 4096), waiting: map[uint64]chan *kvrpcpb.BatchResponse{}}
	go b.sendLoop(s)
	go b.receiveLoop(s)
	return b
}

func (b *batchSender) sendLoop(s grpc.ClientStream) {
	for p := range b.queue {
		msg := &kvrpcpb.BatchCommandsRequest{}
		for {
			b.mu.Lock()
			b.nextID++
			p.req.Id = b.nextID
			b.waiting[p.req.Id] = p.done
			b.mu.Unlock()
			msg.Requests = append(msg.Requests, p.req)
			if len(msg.Requests) == maxBatch {
				break
			}
			select {
			case p = <-b.queue:
				continue
			default:
			}
			break
		}
		if err := s.SendMsg(msg); err != nil && atomic.LoadInt32(&b.closed) == 0 {
			fail("BatchCommands send: %v", err)
		}
	}
}

func (b *batchSender) receiveLoop(s grpc.ClientStream) {
	for {
		var msg kvrpcpb.BatchCommandsResponse
		if err := s.RecvMsg(&msg); err != nil {
			if atomic.LoadInt32(&b.closed) != 0 {
				return
			}
			fail("BatchCommands receive: %v", err)
		}
		for _, r := range msg.Responses {
			b.mu.Lock()
			done := b.waiting[r.Id]
			delete(b.waiting, r.Id)
			b.mu.Unlock()
			if done != nil {
				done <- r
			}
		}
	}
}

func (b *batchSender) close() { atomic.StoreInt32(&b.closed, 1) }

func (b *batchSender) send(ctx context.Context, req *kvrpcpb.BatchRequest) error {
	// Each request gets its own copy: the sender sets the id on it.
	p := pending{req: &kvrpcpb.BatchRequest{Cmd: req.Cmd}, done: make(chan *kvrpcpb.BatchResponse, 1)}
	b.queue <- p
	select {
	case r := <-p.done:
		if r.Status != 0 {
			return status.Error(codes.Code(r.Status), r.StatusMessage)
		}
		switch cmd := r.Cmd.(type) {
		case *kvrpcpb.BatchResponse_RawPut:
			return answerError(cmd.RawPut.RegionError, cmd.RawPut.RegionError != nil, cmd.RawPut.Error)
		case *kvrpcpb.BatchResponse_RawGet:
			return answerError(cmd.RawGet.RegionError, cmd.RawGet.RegionError != nil, cmd.RawGet.Error)
		case *kvrpcpb.BatchResponse_RawScan:
			return answerError(cmd.RawScan.RegionError, cmd.RawScan.RegionError != nil, cmd.RawScan.Error)
		}
		return fmt.Errorf("an answer of the wrong kind")
	case <-ctx.Done():
		return ctx.Err()
	}
}
