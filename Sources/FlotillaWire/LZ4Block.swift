import CLZ4
import NIOCore

/// One raw LZ4 block: no LZ4 frame format and no checksum (TLS, or a log's own CRC, guards
/// integrity). The block does not record its uncompressed size, so frames carry it in front.
public enum LZ4Block {
    /// liblz4's version as major*10000 + minor*100 + patch. Decompression is the same in
    /// every release; the exact compressed bytes may differ between releases.
    public static var libraryVersion: Int { Int(LZ4_versionNumber()) }

    /// The LZ4 block of `input`'s readable bytes, or nil when it would not be smaller
    /// (or `input` is beyond what LZ4 accepts).
    public static func compress(_ input: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        var output = allocator.buffer(capacity: bound(input.readableBytes) ?? 0)
        guard append(input, to: &output), output.readableBytes < input.readableBytes else { return nil }
        return output
    }

    /// Expands `input`'s readable bytes, which must decode to exactly `originalSize` bytes.
    /// The output is allocated once at `originalSize`: callers bound it before calling.
    public static func decompress(
        _ input: ByteBuffer, originalSize: Int, allocator: ByteBufferAllocator
    ) throws(WireError) -> ByteBuffer {
        guard originalSize >= 0, originalSize <= Int(LZ4_MAX_INPUT_SIZE),
            input.readableBytes <= Int(Int32.max)
        else { throw .corruptCompressedPayload }
        var output = allocator.buffer(capacity: originalSize)
        var result: Int32 = -1
        input.withUnsafeReadableBytes { source in
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: originalSize) { destination in
                // dstCapacity is exactly originalSize: a block that expands further fails
                // inside LZ4 instead of writing into the spare capacity.
                result = LZ4_decompress_safe(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self),
                    destination.baseAddress?.assumingMemoryBound(to: CChar.self),
                    Int32(source.count), Int32(originalSize))
                return max(Int(result), 0)
            }
        }
        guard Int(result) == originalSize else { throw .corruptCompressedPayload }
        return output
    }

    /// Appends the LZ4 block of `input` to `output`; false (and nothing appended) when
    /// LZ4 refuses the input. Lets the encoder write the size prefix first without a copy.
    static func append(_ input: ByteBuffer, to output: inout ByteBuffer) -> Bool {
        guard let capacity = bound(input.readableBytes) else { return false }
        let written = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { destination in
                // A destination of at least the bound takes LZ4's faster unchecked-output path.
                let result = LZ4_compress_default(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self),
                    destination.baseAddress?.assumingMemoryBound(to: CChar.self),
                    Int32(source.count), Int32(capacity))
                return max(Int(result), 0)
            }
        }
        return written > 0
    }

    /// LZ4's worst-case output size for `count` input bytes, nil beyond LZ4's input limit.
    static func bound(_ count: Int) -> Int? {
        guard count <= Int(LZ4_MAX_INPUT_SIZE) else { return nil }
        return Int(LZ4_compressBound(Int32(count)))
    }
}
