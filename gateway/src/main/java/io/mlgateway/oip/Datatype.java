package io.mlgateway.oip;

/** The tensor element types of the protocol, under their wire names. */
public enum Datatype {
    BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES;

    /** The type named {@code name} exactly as the protocol spells it, or null. */
    public static Datatype of(String name) {
        for (Datatype type : values()) {
            if (type.name().equals(name)) {
                return type;
            }
        }
        return null;
    }

    public boolean numeric() {
        return this != BOOL && this != BYTES;
    }

    public boolean integral() {
        return numeric() && this != FP16 && this != FP32 && this != FP64;
    }
}
