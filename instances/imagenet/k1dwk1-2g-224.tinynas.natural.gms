$offlisting
$offdigit

EQUATIONS
	one_kernel_0_
	one_kernel_1_
	one_kernel_2_
	one_kernel_3_
	one_kernel_4_
	one_kernel_5_
	one_kernel_6_
	same_width_def_1__hi
	same_width_def_2__hi
	same_width_def_3__hi
	same_width_def_4__hi
	same_width_def_5__hi
	depth_spread_def_hi
	flops_budget_hi
	params_budget_hi
	rho_bound_0__hi
	rho_bound_1__hi
	rho_bound_2__hi
	rho_bound_3__hi
	rho_bound_4__hi
	monotone_1__hi
	monotone_2__hi
	monotone_3__hi
	monotone_4__hi
	monotone_5__hi
	monotone_6__hi
	width_ratio_1__hi
	width_ratio_2__hi
	width_ratio_3__hi
	width_ratio_4__hi
	width_ratio_5__hi
	btn_lower_1__hi
	btn_lower_2__hi
	btn_lower_3__hi
	btn_lower_4__hi
	btn_lower_5__hi
	btn_upper_1__hi
	btn_upper_2__hi
	btn_upper_3__hi
	btn_upper_4__hi
	btn_upper_5__hi
	objective;

BINARY VARIABLES
	kernel_0_3_
	kernel_1_3_
	kernel_1_5_
	kernel_2_3_
	kernel_2_5_
	kernel_3_3_
	kernel_3_5_
	kernel_4_3_
	kernel_4_5_
	kernel_5_3_
	kernel_5_5_
	kernel_6_1_
	same_width_1_
	same_width_2_
	same_width_3_
	same_width_4_
	same_width_5_;

INTEGER VARIABLES
	width_units_1_
	width_units_0_
	width_units_2_
	width_units_3_
	width_units_4_
	width_units_5_
	depth_1_
	depth_2_
	depth_3_
	depth_4_
	depth_5_
	btn_units_1_
	btn_units_2_
	btn_units_3_
	btn_units_4_
	btn_units_5_
	width_units_6_;

POSITIVE VARIABLES
	depth_spread;

VARIABLES
	GAMS_OBJECTIVE
	;


one_kernel_0_.. kernel_0_3_ =e= 1 ;
one_kernel_1_.. kernel_1_3_ + kernel_1_5_ =e= 1 ;
one_kernel_2_.. kernel_2_3_ + kernel_2_5_ =e= 1 ;
one_kernel_3_.. kernel_3_3_ + kernel_3_5_ =e= 1 ;
one_kernel_4_.. kernel_4_3_ + kernel_4_5_ =e= 1 ;
one_kernel_5_.. kernel_5_3_ + kernel_5_5_ =e= 1 ;
one_kernel_6_.. kernel_6_1_ =e= 1 ;
same_width_def_1__hi.. 1 - same_width_1_ - (width_units_1_ - width_units_0_) =l= 0 ;
same_width_def_2__hi.. 1 - same_width_2_ - (width_units_2_ - width_units_1_) =l= 0 ;
same_width_def_3__hi.. 1 - same_width_3_ - (width_units_3_ - width_units_2_) =l= 0 ;
same_width_def_4__hi.. 1 - same_width_4_ - (width_units_4_ - width_units_3_) =l= 0 ;
same_width_def_5__hi.. 1 - same_width_5_ - (width_units_5_ - width_units_4_) =l= 0 ;
depth_spread_def_hi.. (depth_1_*depth_1_ + depth_2_*depth_2_ + depth_3_*depth_3_ + depth_4_*depth_4_ + depth_5_*depth_5_)/5 - (depth_1_ + depth_2_ + depth_3_ + depth_4_ + depth_5_)/5*((depth_1_ + depth_2_ + depth_3_ + depth_4_ + depth_5_)/5) - power(depth_spread, 2) =l= 0 ;
flops_budget_hi.. ((3*(9*kernel_0_3_)*(8*width_units_0_)*12544 + 3*(8*width_units_0_)*12544 + (8*width_units_0_)*(8*btn_units_1_)*12544 + 3*(8*btn_units_1_)*12544 + (9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_)*12544 + 3*(8*btn_units_1_)*12544 + (8*btn_units_1_)*(8*width_units_1_)*12544 + 3*(8*width_units_1_)*12544 + 0 + (depth_1_ + (-1))*((8*width_units_1_)*(8*btn_units_1_)*12544 + 3*(8*btn_units_1_)*12544 + (9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_)*12544 + 3*(8*btn_units_1_)*12544 + (8*btn_units_1_)*(8*width_units_1_)*12544 + 3*(8*width_units_1_)*12544) + (8*width_units_1_)*(8*btn_units_2_)*12544 + 3*(8*btn_units_2_)*12544 + (9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_)*3136 + 3*(8*btn_units_2_)*3136 + (8*btn_units_2_)*(8*width_units_2_)*3136 + 3*(8*width_units_2_)*3136 + (8*width_units_1_)*12544*same_width_2_ + (depth_2_ + (-1))*((8*width_units_2_)*(8*btn_units_2_)*3136 + 3*(8*btn_units_2_)*3136 + (9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_)*3136 + 3*(8*btn_units_2_)*3136 + (8*btn_units_2_)*(8*width_units_2_)*3136 + 3*(8*width_units_2_)*3136) + (8*width_units_2_)*(8*btn_units_3_)*3136 + 3*(8*btn_units_3_)*3136 + (9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_)*784 + 3*(8*btn_units_3_)*784 + (8*btn_units_3_)*(8*width_units_3_)*784 + 3*(8*width_units_3_)*784 + (8*width_units_2_)*3136*same_width_3_ + (depth_3_ + (-1))*((8*width_units_3_)*(8*btn_units_3_)*784 + 3*(8*btn_units_3_)*784 + (9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_)*784 + 3*(8*btn_units_3_)*784 + (8*btn_units_3_)*(8*width_units_3_)*784 + 3*(8*width_units_3_)*784) + (8*width_units_3_)*(8*btn_units_4_)*784 + 3*(8*btn_units_4_)*784 + (9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_)*196 + 3*(8*btn_units_4_)*196 + (8*btn_units_4_)*(8*width_units_4_)*196 + 3*(8*width_units_4_)*196 + (8*width_units_3_)*784*same_width_4_ + (depth_4_ + (-1))*((8*width_units_4_)*(8*btn_units_4_)*196 + 3*(8*btn_units_4_)*196 + (9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_)*196 + 3*(8*btn_units_4_)*196 + (8*btn_units_4_)*(8*width_units_4_)*196 + 3*(8*width_units_4_)*196) + (8*width_units_4_)*(8*btn_units_5_)*196 + 3*(8*btn_units_5_)*196 + (9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_)*49 + 3*(8*btn_units_5_)*49 + (8*btn_units_5_)*(8*width_units_5_)*49 + 3*(8*width_units_5_)*49 + (8*width_units_4_)*196*same_width_5_ + (depth_5_ + (-1))*((8*width_units_5_)*(8*btn_units_5_)*49 + 3*(8*btn_units_5_)*49 + (9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_)*49 + 3*(8*btn_units_5_)*49 + (8*btn_units_5_)*(8*width_units_5_)*49 + 3*(8*width_units_5_)*49) + (8*width_units_5_)*kernel_6_1_*(8*width_units_6_)*49 + 3*(8*width_units_6_)*49)/1000000000) =l= 2 ;
params_budget_hi.. ((3*(9*kernel_0_3_)*(8*width_units_0_) + 2*(8*width_units_0_) + (8*width_units_0_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(8*width_units_1_) + 2*(8*width_units_1_) + (depth_1_ + (-1))*((8*width_units_1_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(8*width_units_1_) + 2*(8*width_units_1_)) + (8*width_units_1_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(8*width_units_2_) + 2*(8*width_units_2_) + (depth_2_ + (-1))*((8*width_units_2_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(8*width_units_2_) + 2*(8*width_units_2_)) + (8*width_units_2_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(8*width_units_3_) + 2*(8*width_units_3_) + (depth_3_ + (-1))*((8*width_units_3_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(8*width_units_3_) + 2*(8*width_units_3_)) + (8*width_units_3_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(8*width_units_4_) + 2*(8*width_units_4_) + (depth_4_ + (-1))*((8*width_units_4_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(8*width_units_4_) + 2*(8*width_units_4_)) + (8*width_units_4_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(8*width_units_5_) + 2*(8*width_units_5_) + (depth_5_ + (-1))*((8*width_units_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(8*width_units_5_) + 2*(8*width_units_5_)) + (8*width_units_5_)*kernel_6_1_*(8*width_units_6_) + 2*(8*width_units_6_))/1000000) =l= 15.16 ;
rho_bound_0__hi.. (3 + (depth_1_ + (-1))*3 + 1)*(log(3 + (depth_1_ + (-1))*3 + 1) + 0.69314718055994529) - (log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_)) =l= 0 ;
rho_bound_1__hi.. (3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3)*(log(3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3) + 0.69314718055994529) - (log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*width_units_1_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*width_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)))) =l= 0 ;
rho_bound_2__hi.. (3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3)*(log(3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3) + 0.69314718055994529) - (log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*width_units_1_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*width_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_))) + log((8*width_units_2_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*width_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_)))) =l= 0 ;
rho_bound_3__hi.. (3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3 + 3 + (depth_4_ + (-1))*3)*(log(3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3 + 3 + (depth_4_ + (-1))*3) + 0.69314718055994529) - (log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*width_units_1_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*width_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_))) + log((8*width_units_2_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*width_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_))) + log((8*width_units_3_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*btn_units_4_)) + (depth_4_ + (-1))*(log((8*width_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*btn_units_4_)))) =l= 0 ;
rho_bound_4__hi.. (3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3 + 3 + (depth_4_ + (-1))*3 + 3 + (depth_5_ + (-1))*3 + 1)*(log(3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3 + 3 + (depth_4_ + (-1))*3 + 3 + (depth_5_ + (-1))*3 + 1) + 0.69314718055994529) - (log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*width_units_1_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*width_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_))) + log((8*width_units_2_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*width_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_))) + log((8*width_units_3_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*btn_units_4_)) + (depth_4_ + (-1))*(log((8*width_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*btn_units_4_))) + log((8*width_units_4_)) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_) + log((8*btn_units_5_)) + (depth_5_ + (-1))*(log((8*width_units_5_)) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_) + log((8*btn_units_5_))) + log((8*width_units_5_)) + 0) =l= 0 ;
monotone_1__hi.. width_units_0_ - width_units_1_ =l= 0 ;
monotone_2__hi.. width_units_1_ - width_units_2_ =l= 0 ;
monotone_3__hi.. width_units_2_ - width_units_3_ =l= 0 ;
monotone_4__hi.. width_units_3_ - width_units_4_ =l= 0 ;
monotone_5__hi.. width_units_4_ - width_units_5_ =l= 0 ;
monotone_6__hi.. width_units_5_ - width_units_6_ =l= 0 ;
width_ratio_1__hi.. width_units_1_ + (-4)*width_units_0_ =l= 0 ;
width_ratio_2__hi.. width_units_2_ + (-4)*width_units_1_ =l= 0 ;
width_ratio_3__hi.. width_units_3_ + (-4)*width_units_2_ =l= 0 ;
width_ratio_4__hi.. width_units_4_ + (-4)*width_units_3_ =l= 0 ;
width_ratio_5__hi.. width_units_5_ + (-4)*width_units_4_ =l= 0 ;
btn_lower_1__hi.. width_units_1_ - btn_units_1_ =l= 0 ;
btn_lower_2__hi.. width_units_2_ - btn_units_2_ =l= 0 ;
btn_lower_3__hi.. width_units_3_ - btn_units_3_ =l= 0 ;
btn_lower_4__hi.. width_units_4_ - btn_units_4_ =l= 0 ;
btn_lower_5__hi.. width_units_5_ - btn_units_5_ =l= 0 ;
btn_upper_1__hi.. btn_units_1_ + (-6)*width_units_1_ =l= 0 ;
btn_upper_2__hi.. btn_units_2_ + (-6)*width_units_2_ =l= 0 ;
btn_upper_3__hi.. btn_units_3_ + (-6)*width_units_3_ =l= 0 ;
btn_upper_4__hi.. btn_units_4_ + (-6)*width_units_4_ =l= 0 ;
btn_upper_5__hi.. btn_units_5_ + (-6)*width_units_5_ =l= 0 ;
objective.. GAMS_OBJECTIVE =e= ((9.436997742590188 + log((8*width_units_1_)))*0.5*(log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_))) + ((8.050703381470299 + log((8*width_units_2_)))*0.5*(log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*width_units_1_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*width_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_))))) + ((6.6644090203504076 + log((8*width_units_3_)))*0.5*(log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*width_units_1_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*width_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_))) + log((8*width_units_2_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*width_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_))))) + ((5.2781146592305168 + log((8*width_units_4_)))*0.5*(log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*width_units_1_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*width_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_))) + log((8*width_units_2_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*width_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_))) + log((8*width_units_3_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*btn_units_4_)) + (depth_4_ + (-1))*(log((8*width_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*btn_units_4_))))) + (8*(3.8918202981106265 + log((8*width_units_6_)))*0.5*(log((8*width_units_0_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_)) + (depth_1_ + (-1))*(log((8*width_units_1_)) + (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_) + log((8*btn_units_1_))) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + log((8*width_units_1_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_)) + (depth_2_ + (-1))*(log((8*width_units_2_)) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_) + log((8*btn_units_2_))) + log((8*width_units_2_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_)) + (depth_3_ + (-1))*(log((8*width_units_3_)) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_) + log((8*btn_units_3_))) + log((8*width_units_3_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*btn_units_4_)) + (depth_4_ + (-1))*(log((8*width_units_4_)) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_) + log((8*btn_units_4_))) + log((8*width_units_4_)) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_) + log((8*btn_units_5_)) + (depth_5_ + (-1))*(log((8*width_units_5_)) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_) + log((8*btn_units_5_))) + log((8*width_units_5_)) + 0)) - (10*exp(depth_spread)) ;

kernel_0_3_.l = 1;
kernel_1_3_.l = 0;
kernel_1_5_.l = 1;
kernel_2_3_.l = 0;
kernel_2_5_.l = 1;
kernel_3_3_.l = 0;
kernel_3_5_.l = 1;
kernel_4_3_.l = 0;
kernel_4_5_.l = 1;
kernel_5_3_.l = 0;
kernel_5_5_.l = 1;
kernel_6_1_.l = 1;
same_width_1_.l = 0;
same_width_2_.l = 0;
same_width_3_.l = 0;
same_width_4_.l = 0;
same_width_5_.l = 0;
width_units_1_.lo = 2;
width_units_1_.up = 11;
width_units_1_.l = 3;
width_units_0_.lo = 2;
width_units_0_.up = 8;
width_units_0_.l = 2;
width_units_2_.lo = 4;
width_units_2_.up = 21;
width_units_2_.l = 6;
width_units_3_.lo = 6;
width_units_3_.up = 43;
width_units_3_.l = 12;
width_units_4_.lo = 8;
width_units_4_.up = 85;
width_units_4_.l = 23;
width_units_5_.lo = 16;
width_units_5_.up = 171;
width_units_5_.l = 47;
depth_1_.lo = 1;
depth_1_.up = 4;
depth_1_.l = 2;
depth_2_.lo = 1;
depth_2_.up = 12;
depth_2_.l = 6;
depth_3_.lo = 1;
depth_3_.up = 12;
depth_3_.l = 6;
depth_4_.lo = 1;
depth_4_.up = 12;
depth_4_.l = 6;
depth_5_.lo = 1;
depth_5_.up = 12;
depth_5_.l = 6;
btn_units_1_.lo = 2;
btn_units_1_.up = 66;
btn_units_1_.l = 2;
btn_units_2_.lo = 4;
btn_units_2_.up = 126;
btn_units_2_.l = 4;
btn_units_3_.lo = 6;
btn_units_3_.up = 258;
btn_units_3_.l = 6;
btn_units_4_.lo = 8;
btn_units_4_.up = 510;
btn_units_4_.l = 12;
btn_units_5_.lo = 16;
btn_units_5_.up = 1026;
btn_units_5_.l = 24;
width_units_6_.lo = 85;
width_units_6_.up = 171;
width_units_6_.l = 85;
depth_spread.up = 5.3888774341229917;
depth_spread.l = 0;

MODEL GAMS_MODEL /all/ ;
option solprint=off;
option limrow=0;
option limcol=0;
option solvelink=5;
SOLVE GAMS_MODEL USING minlp maximizing GAMS_OBJECTIVE;

Scalars MODELSTAT 'model status', SOLVESTAT 'solve status';
MODELSTAT = GAMS_MODEL.modelstat;
SOLVESTAT = GAMS_MODEL.solvestat;

Scalar OBJEST 'best objective', OBJVAL 'objective value';
OBJEST = GAMS_MODEL.objest;
OBJVAL = GAMS_MODEL.objval;

Scalar NUMVAR 'number of variables';
NUMVAR = GAMS_MODEL.numvar

Scalar NUMEQU 'number of equations';
NUMEQU = GAMS_MODEL.numequ

Scalar NUMDVAR 'number of discrete variables';
NUMDVAR = GAMS_MODEL.numdvar

Scalar NUMNZ 'number of nonzeros';
NUMNZ = GAMS_MODEL.numnz

Scalar ETSOLVE 'time to execute solve statement';
ETSOLVE = GAMS_MODEL.etsolve

