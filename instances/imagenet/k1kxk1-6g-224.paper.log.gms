$offlisting
$offdigit

EQUATIONS
	one_kernel_0_
	one_kernel_1_
	one_kernel_2_
	one_kernel_3_
	one_kernel_4_
	one_kernel_5_
	log_width_link_0_
	log_width_link_1_
	log_width_link_2_
	log_width_link_3_
	log_width_link_4_
	log_width_link_5_
	log_btn_link_1_
	log_btn_link_2_
	log_btn_link_3_
	log_btn_link_4_
	log_btn_link_5_
	depth_spread_def_hi
	flops_budget_hi
	params_budget_hi
	rho_bound_0__hi
	monotone_1__hi
	monotone_2__hi
	monotone_3__hi
	monotone_4__hi
	monotone_5__hi
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
	kernel_5_5_;

INTEGER VARIABLES
	width_units_0_
	width_units_1_
	width_units_2_
	width_units_3_
	width_units_4_
	width_units_5_
	btn_units_1_
	btn_units_2_
	btn_units_3_
	btn_units_4_
	btn_units_5_
	depth_1_
	depth_2_
	depth_3_
	depth_4_
	depth_5_;

POSITIVE VARIABLES
	depth_spread;

VARIABLES
	GAMS_OBJECTIVE
	log_width_0_
	log_width_1_
	log_width_2_
	log_width_3_
	log_width_4_
	log_width_5_
	log_btn_1_
	log_btn_2_
	log_btn_3_
	log_btn_4_
	log_btn_5_;


one_kernel_0_.. kernel_0_3_ =e= 1 ;
one_kernel_1_.. kernel_1_3_ + kernel_1_5_ =e= 1 ;
one_kernel_2_.. kernel_2_3_ + kernel_2_5_ =e= 1 ;
one_kernel_3_.. kernel_3_3_ + kernel_3_5_ =e= 1 ;
one_kernel_4_.. kernel_4_3_ + kernel_4_5_ =e= 1 ;
one_kernel_5_.. kernel_5_3_ + kernel_5_5_ =e= 1 ;
log_width_link_0_.. exp(log_width_0_) - (8*width_units_0_) =e= 0 ;
log_width_link_1_.. exp(log_width_1_) - (8*width_units_1_) =e= 0 ;
log_width_link_2_.. exp(log_width_2_) - (8*width_units_2_) =e= 0 ;
log_width_link_3_.. exp(log_width_3_) - (8*width_units_3_) =e= 0 ;
log_width_link_4_.. exp(log_width_4_) - (8*width_units_4_) =e= 0 ;
log_width_link_5_.. exp(log_width_5_) - (8*width_units_5_) =e= 0 ;
log_btn_link_1_.. exp(log_btn_1_) - (8*btn_units_1_) =e= 0 ;
log_btn_link_2_.. exp(log_btn_2_) - (8*btn_units_2_) =e= 0 ;
log_btn_link_3_.. exp(log_btn_3_) - (8*btn_units_3_) =e= 0 ;
log_btn_link_4_.. exp(log_btn_4_) - (8*btn_units_4_) =e= 0 ;
log_btn_link_5_.. exp(log_btn_5_) - (8*btn_units_5_) =e= 0 ;
depth_spread_def_hi.. (depth_1_*depth_1_ + depth_2_*depth_2_ + depth_3_*depth_3_ + depth_4_*depth_4_ + depth_5_*depth_5_)/5 - (depth_1_ + depth_2_ + depth_3_ + depth_4_ + depth_5_)/5*((depth_1_ + depth_2_ + depth_3_ + depth_4_ + depth_5_)/5) - depth_spread =l= 0 ;
flops_budget_hi.. (((8*width_units_0_)*(8*btn_units_1_)*12544 + (8*btn_units_1_)*(9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_)*3136 + (8*btn_units_1_)*(8*width_units_1_)*3136 + (8*width_units_0_)*(8*width_units_1_)*3136 + (depth_1_ + (-1))*((8*width_units_1_)*(8*btn_units_1_)*3136 + (8*btn_units_1_)*(9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_)*3136 + (8*btn_units_1_)*(8*width_units_1_)*3136) + 3*(9*kernel_0_3_)*(8*width_units_0_)*12544 + (8*width_units_1_)*(8*btn_units_2_)*3136 + (8*btn_units_2_)*(9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_)*784 + (8*btn_units_2_)*(8*width_units_2_)*784 + (8*width_units_1_)*(8*width_units_2_)*784 + (depth_2_ + (-1))*((8*width_units_2_)*(8*btn_units_2_)*784 + (8*btn_units_2_)*(9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_)*784 + (8*btn_units_2_)*(8*width_units_2_)*784) + (8*width_units_2_)*(8*btn_units_3_)*784 + (8*btn_units_3_)*(9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_)*196 + (8*btn_units_3_)*(8*width_units_3_)*196 + (8*width_units_2_)*(8*width_units_3_)*196 + (depth_3_ + (-1))*((8*width_units_3_)*(8*btn_units_3_)*196 + (8*btn_units_3_)*(9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_)*196 + (8*btn_units_3_)*(8*width_units_3_)*196) + (8*width_units_3_)*(8*btn_units_4_)*196 + (8*btn_units_4_)*(9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_)*196 + (8*btn_units_4_)*(8*width_units_4_)*196 + (8*width_units_3_)*(8*width_units_4_)*196 + (depth_4_ + (-1))*((8*width_units_4_)*(8*btn_units_4_)*196 + (8*btn_units_4_)*(9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_)*196 + (8*btn_units_4_)*(8*width_units_4_)*196) + (8*width_units_4_)*(8*btn_units_5_)*196 + (8*btn_units_5_)*(9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_)*49 + (8*btn_units_5_)*(8*width_units_5_)*49 + (8*width_units_4_)*(8*width_units_5_)*49 + (depth_5_ + (-1))*((8*width_units_5_)*(8*btn_units_5_)*49 + (8*btn_units_5_)*(9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_)*49 + (8*btn_units_5_)*(8*width_units_5_)*49) + (8*width_units_5_)*1000)/1000000000) =l= 6 ;
params_budget_hi.. ((3*(9*kernel_0_3_)*(8*width_units_0_) + 2*(8*width_units_0_) + (8*width_units_0_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(8*width_units_1_) + 2*(8*width_units_1_) + (8*width_units_0_)*(8*width_units_1_) + 2*(8*width_units_1_) + (depth_1_ + (-1))*((8*width_units_1_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(9*kernel_1_3_ + 25*kernel_1_5_)*(8*btn_units_1_) + 2*(8*btn_units_1_) + (8*btn_units_1_)*(8*width_units_1_) + 2*(8*width_units_1_)) + (8*width_units_1_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(8*width_units_2_) + 2*(8*width_units_2_) + (8*width_units_1_)*(8*width_units_2_) + 2*(8*width_units_2_) + (depth_2_ + (-1))*((8*width_units_2_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(9*kernel_2_3_ + 25*kernel_2_5_)*(8*btn_units_2_) + 2*(8*btn_units_2_) + (8*btn_units_2_)*(8*width_units_2_) + 2*(8*width_units_2_)) + (8*width_units_2_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(8*width_units_3_) + 2*(8*width_units_3_) + (8*width_units_2_)*(8*width_units_3_) + 2*(8*width_units_3_) + (depth_3_ + (-1))*((8*width_units_3_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(9*kernel_3_3_ + 25*kernel_3_5_)*(8*btn_units_3_) + 2*(8*btn_units_3_) + (8*btn_units_3_)*(8*width_units_3_) + 2*(8*width_units_3_)) + (8*width_units_3_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(8*width_units_4_) + 2*(8*width_units_4_) + (8*width_units_3_)*(8*width_units_4_) + 2*(8*width_units_4_) + (depth_4_ + (-1))*((8*width_units_4_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(9*kernel_4_3_ + 25*kernel_4_5_)*(8*btn_units_4_) + 2*(8*btn_units_4_) + (8*btn_units_4_)*(8*width_units_4_) + 2*(8*width_units_4_)) + (8*width_units_4_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(8*width_units_5_) + 2*(8*width_units_5_) + (8*width_units_4_)*(8*width_units_5_) + 2*(8*width_units_5_) + (depth_5_ + (-1))*((8*width_units_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(9*kernel_5_3_ + 25*kernel_5_5_)*(8*btn_units_5_) + 2*(8*btn_units_5_) + (8*btn_units_5_)*(8*width_units_5_) + 2*(8*width_units_5_)) + (8*width_units_5_)*1000 + 1000)/1000000) =l= 35.759999999999998 ;
rho_bound_0__hi.. (3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3 + 3 + (depth_4_ + (-1))*3 + 3 + (depth_5_ + (-1))*3)*(log(3 + (depth_1_ + (-1))*3 + 1 + 3 + (depth_2_ + (-1))*3 + 3 + (depth_3_ + (-1))*3 + 3 + (depth_4_ + (-1))*3 + 3 + (depth_5_ + (-1))*3) + 1.2039728043259361) - (2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_0_ + log_btn_1_ + (depth_1_ + (-1))*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_1_ + log_btn_1_) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_ + log_btn_2_ + log_width_1_ + log_btn_2_) + (depth_2_ + (-1))*(2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_ + log_btn_2_ + log_width_2_ + log_btn_2_) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_ + log_btn_3_ + log_width_2_ + log_btn_3_) + (depth_3_ + (-1))*(2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_ + log_btn_3_ + log_width_3_ + log_btn_3_) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_ + log_btn_4_ + log_width_3_ + log_btn_4_) + (depth_4_ + (-1))*(2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_ + log_btn_4_ + log_width_4_ + log_btn_4_) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_ + log_btn_5_ + log_width_4_ + log_btn_5_) + (depth_5_ + (-1))*(2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_ + log_btn_5_ + log_width_5_ + log_btn_5_)) =l= 0 ;
monotone_1__hi.. width_units_0_ - width_units_1_ =l= 0 ;
monotone_2__hi.. width_units_1_ - width_units_2_ =l= 0 ;
monotone_3__hi.. width_units_2_ - width_units_3_ =l= 0 ;
monotone_4__hi.. width_units_3_ - width_units_4_ =l= 0 ;
monotone_5__hi.. width_units_4_ - width_units_5_ =l= 0 ;
width_ratio_1__hi.. width_units_1_ + (-4)*width_units_0_ =l= 0 ;
width_ratio_2__hi.. width_units_2_ + (-4)*width_units_1_ =l= 0 ;
width_ratio_3__hi.. width_units_3_ + (-4)*width_units_2_ =l= 0 ;
width_ratio_4__hi.. width_units_4_ + (-4)*width_units_3_ =l= 0 ;
width_ratio_5__hi.. width_units_5_ + (-4)*width_units_4_ =l= 0 ;
btn_lower_1__hi.. 0.1*width_units_1_ - btn_units_1_ =l= 0 ;
btn_lower_2__hi.. 0.1*width_units_2_ - btn_units_2_ =l= 0 ;
btn_lower_3__hi.. 0.1*width_units_3_ - btn_units_3_ =l= 0 ;
btn_lower_4__hi.. 0.1*width_units_4_ - btn_units_4_ =l= 0 ;
btn_lower_5__hi.. 0.1*width_units_5_ - btn_units_5_ =l= 0 ;
btn_upper_1__hi.. btn_units_1_ - width_units_1_ =l= 0 ;
btn_upper_2__hi.. btn_units_2_ - width_units_2_ =l= 0 ;
btn_upper_3__hi.. btn_units_3_ - width_units_3_ =l= 0 ;
btn_upper_4__hi.. btn_units_4_ - width_units_4_ =l= 0 ;
btn_upper_5__hi.. btn_units_5_ - width_units_5_ =l= 0 ;
objective.. GAMS_OBJECTIVE =e= ((9.436997742590188 + log_width_0_)*(1.0986122886681098 + 2.1972245773362196*kernel_0_3_)) + ((8.050703381470299 + log_width_1_)*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_0_ + log_btn_1_ + (depth_1_ + (-1))*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_1_ + log_btn_1_) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_))) + ((6.6644090203504076 + log_width_2_)*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_0_ + log_btn_1_ + (depth_1_ + (-1))*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_1_ + log_btn_1_) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_ + log_btn_2_ + log_width_1_ + log_btn_2_) + (depth_2_ + (-1))*(2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_ + log_btn_2_ + log_width_2_ + log_btn_2_))) + ((5.2781146592305168 + log_width_4_)*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_0_ + log_btn_1_ + (depth_1_ + (-1))*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_1_ + log_btn_1_) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_ + log_btn_2_ + log_width_1_ + log_btn_2_) + (depth_2_ + (-1))*(2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_ + log_btn_2_ + log_width_2_ + log_btn_2_) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_ + log_btn_3_ + log_width_2_ + log_btn_3_) + (depth_3_ + (-1))*(2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_ + log_btn_3_ + log_width_3_ + log_btn_3_) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_ + log_btn_4_ + log_width_3_ + log_btn_4_) + (depth_4_ + (-1))*(2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_ + log_btn_4_ + log_width_4_ + log_btn_4_))) + (8*(3.8918202981106265 + log_width_5_)*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_0_ + log_btn_1_ + (depth_1_ + (-1))*(2.1972245773362196*kernel_1_3_ + 3.2188758248682006*kernel_1_5_ + log_btn_1_ + log_width_1_ + log_btn_1_) + (1.0986122886681098 + 2.1972245773362196*kernel_0_3_) + (2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_ + log_btn_2_ + log_width_1_ + log_btn_2_) + (depth_2_ + (-1))*(2.1972245773362196*kernel_2_3_ + 3.2188758248682006*kernel_2_5_ + log_btn_2_ + log_width_2_ + log_btn_2_) + (2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_ + log_btn_3_ + log_width_2_ + log_btn_3_) + (depth_3_ + (-1))*(2.1972245773362196*kernel_3_3_ + 3.2188758248682006*kernel_3_5_ + log_btn_3_ + log_width_3_ + log_btn_3_) + (2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_ + log_btn_4_ + log_width_3_ + log_btn_4_) + (depth_4_ + (-1))*(2.1972245773362196*kernel_4_3_ + 3.2188758248682006*kernel_4_5_ + log_btn_4_ + log_width_4_ + log_btn_4_) + (2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_ + log_btn_5_ + log_width_4_ + log_btn_5_) + (depth_5_ + (-1))*(2.1972245773362196*kernel_5_3_ + 3.2188758248682006*kernel_5_5_ + log_btn_5_ + log_width_5_ + log_btn_5_))) - (10*exp(depth_spread)) ;

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
width_units_0_.lo = 2;
width_units_0_.up = 8;
width_units_0_.l = 2;
width_units_1_.lo = 4;
width_units_1_.up = 39;
width_units_1_.l = 11;
width_units_2_.lo = 8;
width_units_2_.up = 154;
width_units_2_.l = 40;
width_units_3_.lo = 16;
width_units_3_.up = 309;
width_units_3_.l = 81;
width_units_4_.lo = 16;
width_units_4_.up = 309;
width_units_4_.l = 81;
width_units_5_.lo = 32;
width_units_5_.up = 309;
width_units_5_.l = 85;
btn_units_1_.lo = 1;
btn_units_1_.up = 39;
btn_units_1_.l = 6;
btn_units_2_.lo = 1;
btn_units_2_.up = 154;
btn_units_2_.l = 20;
btn_units_3_.lo = 2;
btn_units_3_.up = 309;
btn_units_3_.l = 40;
btn_units_4_.lo = 2;
btn_units_4_.up = 309;
btn_units_4_.l = 40;
btn_units_5_.lo = 4;
btn_units_5_.up = 309;
btn_units_5_.l = 42;
depth_1_.lo = 1;
depth_1_.up = 3;
depth_1_.l = 2;
depth_2_.lo = 1;
depth_2_.up = 20;
depth_2_.l = 10;
depth_3_.lo = 1;
depth_3_.up = 20;
depth_3_.l = 10;
depth_4_.lo = 1;
depth_4_.up = 20;
depth_4_.l = 10;
depth_5_.lo = 1;
depth_5_.up = 20;
depth_5_.l = 10;
depth_spread.up = 11.05045735893105;
depth_spread.l = 0;
log_width_0_.lo = 2.772588722239781;
log_width_0_.up = 4.1588830833596715;
log_width_0_.l = 2.772588722239781;
log_width_1_.lo = 3.4657359027997265;
log_width_1_.up = 5.7430031878094825;
log_width_1_.l = 4.4773368144782069;
log_width_2_.lo = 4.1588830833596715;
log_width_2_.up = 7.1163941440934648;
log_width_2_.l = 5.768320995793772;
log_width_3_.lo = 4.8520302639196169;
log_width_3_.up = 7.812782818577581;
log_width_3_.l = 6.473890696352274;
log_width_4_.lo = 4.8520302639196169;
log_width_4_.up = 7.812782818577581;
log_width_4_.l = 6.473890696352274;
log_width_5_.lo = 5.545177444479562;
log_width_5_.up = 7.812782818577581;
log_width_5_.l = 6.522092798170152;
log_btn_1_.lo = 2.0794415416798357;
log_btn_1_.up = 5.7430031878094825;
log_btn_1_.l = 3.871201010907891;
log_btn_2_.lo = 2.0794415416798357;
log_btn_2_.up = 7.1163941440934648;
log_btn_2_.l = 5.0751738152338266;
log_btn_3_.lo = 2.772588722239781;
log_btn_3_.up = 7.812782818577581;
log_btn_3_.l = 5.768320995793772;
log_btn_4_.lo = 2.772588722239781;
log_btn_4_.up = 7.812782818577581;
log_btn_4_.l = 5.768320995793772;
log_btn_5_.lo = 3.4657359027997265;
log_btn_5_.up = 7.812782818577581;
log_btn_5_.l = 5.817111159963204;

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

