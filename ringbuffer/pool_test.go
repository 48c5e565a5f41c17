package ringbuffer

import "testing"

func TestCapFor(t *testing.T) {
	tests := []struct {
		name string
		need int
		want int
	}{
		{name: "one", need: 1, want: MinCap},
		{name: "MinCap", need: MinCap, want: MinCap},
		{name: "MinCap+1", need: MinCap + 1, want: 2 * MinCap},
		{name: "power of two", need: 1 << 20, want: 1 << 20},
		{name: "MaxCap", need: MaxCap, want: MaxCap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := capFor(tt.need); got != tt.want {
				t.Errorf("capFor(%d) = %d, want %d", tt.need, got, tt.want)
			}
		})
	}
}

func TestGetChunk(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{name: "MinCap", size: MinCap},
		{name: "4 KiB", size: 4 << 10},
		{name: "largest pooled", size: 1 << maxPooledClass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 3 {
				c := getChunk(tt.size)
				if len(c.b) != tt.size {
					t.Fatalf("round %d: getChunk(%d) has len %d", i, tt.size, len(c.b))
				}
				putChunk(c)
			}
		})
	}
}

func TestSizeClass(t *testing.T) {
	tests := []struct {
		name string
		size int
		want int
	}{
		{name: "MinCap is the first class", size: MinCap, want: 0},
		{name: "2 KiB", size: 2 << 10, want: 1},
		{name: "largest pooled is the last class", size: 1 << maxPooledClass, want: len(pools) - 1},
		{name: "beyond the pools", size: 1 << (maxPooledClass + 1), want: len(pools)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sizeClass(tt.size); got != tt.want {
				t.Errorf("sizeClass(%d) = %d, want %d", tt.size, got, tt.want)
			}
		})
	}
}
