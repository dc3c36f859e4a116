/* Names: fault reasons (Linux dma_remap_fault_reasons[] wording), stages,
 * translation types. */
#include "vtd/walk.h"

const char *vtd_fault_str(unsigned r)
{
	switch (r) {
	case 0: return "no fault";
	case VTD_FR_UNIT_UNKNOWN: return "not a fault: the unit's tables are not known";
	case 0x1: return "Present bit in root entry is clear";
	case 0x2: return "Present bit in context entry is clear";
	case 0x3: return "Invalid context entry";
	case 0x4: return "Access beyond MGAW";
	case 0x5: return "PTE Write access is not set";
	case 0x6: return "PTE Read access is not set";
	case 0x7: return "Next page table ptr is invalid";
	case 0x8: return "Root table address invalid";
	case 0x9: return "Context table ptr is invalid";
	case 0xa: return "non-zero reserved fields in RTP";
	case 0xb: return "non-zero reserved fields in CTP";
	case 0xc: return "non-zero reserved fields in PTE";
	case 0xd: return "PCE for translation request specifies blocking";
	case 0x30: return "SM: Invalid Root Table Address";
	case 0x31: return "SM: TTM 0 for request with PASID";
	case 0x38: return "SM: Error attempting to access Root Entry";
	case 0x39: return "SM: Present bit in Root Entry is clear";
	case 0x3a: return "SM: Non-zero reserved field set in Root Entry";
	case 0x40: return "SM: Error attempting to access Context Entry";
	case 0x41: return "SM: Present bit in Context Entry is clear";
	case 0x42: return "SM: Non-zero reserved field set in the Context Entry";
	case 0x43: return "SM: Invalid Context Entry";
	case 0x45: return "SM: PASID Enable field in Context Entry is clear";
	case 0x46: return "SM: PASID is larger than the max in Context Entry";
	case 0x50: return "SM: Error attempting to access the PASID Directory Entry";
	case 0x51: return "SM: Present bit in Directory Entry is clear";
	case 0x52: return "SM: Non-zero reserved field set in PASID Directory Entry";
	case 0x58: return "SM: Error attempting to access PASID Table Entry";
	case 0x59: return "SM: Present bit in PASID Table Entry is clear";
	case 0x5a: return "SM: Non-zero reserved field set in PASID Table Entry";
	case 0x5b: return "SM: Invalid Scalable-Mode PASID Table Entry";
	case 0x70: return "SM: Error attempting to access first-level paging entry";
	case 0x71: return "SM: Present bit in first-level paging entry is clear";
	case 0x72: return "SM: Non-zero reserved field set in first-level paging entry";
	case 0x73: return "SM: Error attempting to access FL-PML4 entry";
	case 0x78: return "SM: Error attempting to access second-level paging entry";
	case 0x79: return "SM: Read/Write permission error in second-level paging entry";
	case 0x7a: return "SM: Non-zero reserved field set in second-level paging entry";
	case 0x7b: return "SM: Invalid second-level page table pointer";
	case 0x80: return "SM: Address in first-level translation is not canonical";
	case 0x81: return "SM: U/S set 0 for first-level translation with user privilege";
	case 0x83: return "SM: Address beyond the DMA hardware max";
	case 0x84: return "SM: Second-level entry address beyond the max";
	case 0x85: return "SM: No write permission for Write/AtomicOp request";
	case 0x86: return "SM: No read permission for Read/AtomicOp request";
	}
	return "Unknown";
}

const char *vtd_stage_name(enum vtd_stage s)
{
	switch (s) {
	case VTD_ST_ROOT: return "root";
	case VTD_ST_CONTEXT: return "context";
	case VTD_ST_PASID_DIR: return "pasid-dir";
	case VTD_ST_PASID: return "pasid";
	case VTD_ST_SL: return "sl";
	case VTD_ST_FL: return "fl";
	}
	return "?";
}

const char *vtd_xtype_name(enum vtd_xtype t)
{
	switch (t) {
	case VTD_XT_NONE: return "none";
	case VTD_XT_SL: return "second-level";
	case VTD_XT_FL: return "first-level";
	case VTD_XT_NESTED: return "nested";
	case VTD_XT_PT: return "pass-through";
	}
	return "?";
}
